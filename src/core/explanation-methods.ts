// The explanation methods in one table (pytorch-grad-cam's method objects, without their code): name,
// title, the layer a map comes from, and whether it is fast enough for every slide. The configuration's
// enums, the screens' captions and order, the CLI's --methods and the engine's method registry
// (engine/explain/index.ts, `satisfies Record<MethodName, …>`) all come from here.

export const METHOD_NAMES = ['layercam14', 'layercam28', 'layercam', 'layercam56', 'gradcam', 'gradcam28', 'gradcam14', 'cam', 'lime', 'ig'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export interface MethodInfo {
  title: string;
  /** Where the map comes from, for a model whose input side is `inputSize` (its last stage is 1/32 of it). */
  source(at: (stride: number) => string, last: string): string;
  /** About a second or less on 2 cores: made for every new slide when explain.slideMethods names it. */
  fast: boolean;
  /** The strides of the feature maps it reads (32: the last stage), for the short caption; [] for pixel methods. */
  strides: readonly number[];
}

export const METHOD_INFO: Record<MethodName, MethodInfo> = {
  layercam14: { title: 'LayerCAM', source: (at) => `stage before the last, ${at(16)}`, fast: true, strides: [16] },
  layercam28: { title: 'LayerCAM', source: (at) => `third stage from the end, ${at(8)}`, fast: true, strides: [8] },
  layercam: { title: 'LayerCAM', source: (at) => `last three stages, ${at(32)} to ${at(8)}`, fast: true, strides: [32, 16, 8] },
  layercam56: { title: 'LayerCAM', source: (at) => `last four stages, ${at(32)} to ${at(4)}`, fast: true, strides: [32, 16, 8, 4] },
  gradcam: { title: 'Grad-CAM', source: (_, last) => last, fast: true, strides: [32] },
  gradcam28: { title: 'Grad-CAM', source: (at) => `third stage from the end, ${at(8)}`, fast: true, strides: [8] },
  gradcam14: { title: 'Grad-CAM', source: (at) => `stage before the last, ${at(16)}`, fast: true, strides: [16] },
  cam: { title: 'CAM', source: (_, last) => `${last}, class weights`, fast: true, strides: [32] },
  lime: { title: 'LIME', source: () => 'superpixels of the image', fast: false, strides: [] },
  ig: { title: 'Integrated Gradients', source: () => 'input pixels, against the baseline set in explain.ig', fast: false, strides: [] },
};

export function isMethodName(name: string): name is MethodName {
  return (METHOD_NAMES as readonly string[]).includes(name);
}

/** "LayerCAM"; a name that is not a method's as it is. */
export function methodTitle(name: string): string {
  return isMethodName(name) ? METHOD_INFO[name].title : name;
}

/** "LayerCAM 14²", "LayerCAM 7²–28²": a title with the side of the maps it reads, for captions of a dozen columns. */
export function methodShortTitle(method: MethodName, inputSize: number | null): string {
  const { title, strides } = METHOD_INFO[method];
  if (!inputSize || !strides.length) return title;
  const sides = strides.map((s) => Math.round(inputSize / s));
  return `${title} ${Math.min(...sides)}²${sides.length > 1 ? `–${Math.max(...sides)}²` : ''}`;
}

/** "last stage, 7 × 7" for a method on a model of this input size. */
export function methodSource(method: MethodName, inputSize: number | null): string {
  const side = inputSize ? Math.round(inputSize / 32) : null;
  const last = side ? `last stage, ${side} × ${side}` : 'last stage';
  const at = (stride: number) => (inputSize ? `${Math.round(inputSize / stride)} × ${Math.round(inputSize / stride)}` : `1/${stride} of the input`);
  return METHOD_INFO[method].source(at, last);
}

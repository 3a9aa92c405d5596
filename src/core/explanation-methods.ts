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
}

export const METHOD_INFO: Record<MethodName, MethodInfo> = {
  layercam14: { title: 'LayerCAM', source: (at) => `stage before the last, ${at(16)}`, fast: true },
  layercam28: { title: 'LayerCAM', source: (at) => `third stage from the end, ${at(8)}`, fast: true },
  layercam: { title: 'LayerCAM', source: (at) => `last three stages, ${at(32)} to ${at(8)}`, fast: true },
  layercam56: { title: 'LayerCAM', source: (at) => `last four stages, ${at(32)} to ${at(4)}`, fast: true },
  gradcam: { title: 'Grad-CAM', source: (_, last) => last, fast: true },
  gradcam28: { title: 'Grad-CAM', source: (at) => `third stage from the end, ${at(8)}`, fast: true },
  gradcam14: { title: 'Grad-CAM', source: (at) => `stage before the last, ${at(16)}`, fast: true },
  cam: { title: 'CAM', source: (_, last) => `${last}, class weights`, fast: true },
  lime: { title: 'LIME', source: () => 'superpixels of the image', fast: false },
  ig: { title: 'Integrated Gradients', source: () => 'input pixels, against the baseline set in explain.ig', fast: false },
};

export function isMethodName(name: string): name is MethodName {
  return (METHOD_NAMES as readonly string[]).includes(name);
}

/** "LayerCAM"; a name that is not a method's as it is. */
export function methodTitle(name: string): string {
  return isMethodName(name) ? METHOD_INFO[name].title : name;
}

/** "last stage, 7 × 7" for a method on a model of this input size. */
export function methodSource(method: MethodName, inputSize: number | null): string {
  const side = inputSize ? Math.round(inputSize / 32) : null;
  const last = side ? `last stage, ${side} × ${side}` : 'last stage';
  const at = (stride: number) => (inputSize ? `${Math.round(inputSize / stride)} × ${Math.round(inputSize / stride)}` : `1/${stride} of the input`);
  return METHOD_INFO[method].source(at, last);
}

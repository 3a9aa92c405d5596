// The explanation methods in one table (pytorch-grad-cam's method objects, without their code): name,
// title, the layer a map comes from, and whether it is fast enough for every slide. The configuration's
// enums, the screens' captions and order, the CLI's --methods and the engine's method registry
// (engine/explain/index.ts, `satisfies Record<MethodName, …>`) all come from here.

export const METHOD_NAMES = ['layercam14', 'layercam28', 'layercam', 'layercam56', 'gradcam', 'gradcam28', 'gradcam14', 'cam', 'lime', 'ig', 'ig14'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export interface MethodInfo {
  title: string;
  /** About a second or less on 2 cores: made for every new slide when explain.slideMethods names it. */
  fast: boolean;
  /** The strides of the feature maps it reads (32: the last stage), which name its source and short caption; [] for pixel methods. */
  strides: readonly number[];
  /** The source of a pixel method, or what a map method adds to its stage's name. */
  source?: string;
  /** Relevance per input pixel (held to pixel noise in xai-eval); the others are regions: feature maps, superpixels. */
  perPixel?: true;
  /** What the map shows, in the technician's words, as measured on held-out images (docs/explanations.md, issue #38). */
  shows: string;
}

// LayerCAM weighs the stage's own activations: randomising the head and last block leaves much of its ranking
// (ρ 0.43), so its caption says it is partly the features' strength. IG on the same stage follows the decision
// (ρ 0.08). Grad-CAM and CAM at 7 × 7 beat the random map on deletion and insertion but point into a cell in
// only 0.40 of images: they come with x, and say so.
const LAYERCAM = 'features that raise the class, weighted by their strength: partly the stain and shapes themselves, not only the decision';
const COARSE = 'coarse evidence for the class: it often falls between the cells';

export const METHOD_INFO: Record<MethodName, MethodInfo> = {
  layercam14: { title: 'LayerCAM', fast: true, strides: [16], shows: LAYERCAM },
  layercam28: { title: 'LayerCAM', fast: true, strides: [8], shows: LAYERCAM },
  layercam: { title: 'LayerCAM', fast: true, strides: [32, 16, 8], shows: LAYERCAM },
  layercam56: { title: 'LayerCAM', fast: true, strides: [32, 16, 8, 4], shows: LAYERCAM },
  gradcam: { title: 'Grad-CAM', fast: true, strides: [32], shows: COARSE },
  gradcam28: { title: 'Grad-CAM', fast: true, strides: [8], shows: COARSE },
  gradcam14: { title: 'Grad-CAM', fast: true, strides: [16], shows: COARSE },
  cam: { title: 'CAM', fast: true, strides: [32], source: 'class weights', shows: `${COARSE} (the same weights as Grad-CAM)` },
  lime: { title: 'LIME', fast: false, strides: [], source: 'superpixels of the image', shows: 'the patches of the image whose presence raises the class, fitted from random samples' },
  ig: {
    title: 'Integrated Gradients',
    fast: false,
    strides: [],
    source: 'input pixels, against the baseline set in explain.ig',
    perPixel: true,
    shows: 'each pixel’s share of the score: no better than noise on held-out images',
  },
  ig14: { title: 'Integrated Gradients', fast: false, strides: [16], source: 'integrated from a black image', shows: 'each position’s share of the decision itself' },
};

/** A stage by its stride, counted from the end (EfficientNet's and MobileNetV2's last stage is at 32). */
const STAGE_NAMES: Record<number, string> = { 32: 'last stage', 16: 'stage before the last', 8: 'third stage from the end', 4: 'fourth stage from the end' };
const COUNTS = ['', 'one', 'two', 'three', 'four'];

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

/** "LayerCAM: features that raise the class, …": what a map shows, for the line under the slide's maps. */
export function methodShows(method: string): string {
  return isMethodName(method) ? `${METHOD_INFO[method].title}: ${METHOD_INFO[method].shows}` : '';
}

/** "last stage, 7 × 7" for a method on a model of this input size. */
export function methodSource(method: MethodName, inputSize: number | null): string {
  const { strides, source } = METHOD_INFO[method];
  if (!strides.length) return source ?? '';
  const at = (stride: number) => (inputSize ? `${Math.round(inputSize / stride)} × ${Math.round(inputSize / stride)}` : `1/${stride} of the input`);
  const [coarsest, finest] = [Math.max(...strides), Math.min(...strides)];
  // The last stage without an input size is just "last stage".
  const stage =
    strides.length > 1 ? `last ${COUNTS[strides.length]} stages, ${at(coarsest)} to ${at(finest)}` : coarsest === 32 && !inputSize ? STAGE_NAMES[32] : `${STAGE_NAMES[coarsest]}, ${at(coarsest)}`;
  return source ? `${stage}, ${source}` : stage;
}

// The maps of a slide in the order they are shown, with what each is and which layer it comes from.
export const MAP_ORDER = ['image', 'layercam56', 'layercam', 'gradcam', 'gradcam28', 'gradcam14', 'cam', 'lime', 'ig'] as const;

export const MAP_TITLES: Record<string, string> = { image: 'image', layercam56: 'LayerCAM', layercam: 'LayerCAM', gradcam: 'Grad-CAM', gradcam28: 'Grad-CAM', gradcam14: 'Grad-CAM', cam: 'CAM', lime: 'LIME', ig: 'Integrated Gradients' };

/** Where a map comes from, for a model whose input side is `inputSize` (its last stage is 1/32 of it). */
export function mapSource(method: string, inputSize: number | null): string {
  const side = inputSize ? Math.round(inputSize / 32) : null;
  const last = side ? `last stage, ${side} × ${side}` : 'last stage';
  const at = (stride: number) => (inputSize ? `${Math.round(inputSize / stride)} × ${Math.round(inputSize / stride)}` : `1/${stride} of the input`);
  const sources: Record<string, string> = {
    layercam56: `last four stages, ${at(32)} to ${at(4)}`,
    layercam: `last three stages, ${at(32)} to ${at(8)}`,
    gradcam: last,
    gradcam14: `stage before the last, ${at(16)}`,
    gradcam28: `third stage from the end, ${at(8)}`,
    cam: `${last}, class weights`,
    lime: 'superpixels of the image',
    ig: 'input pixels, against the baseline set in explain.ig',
  };
  return sources[method] ?? '';
}

/** "Grad-CAM · last stage, 7 × 7": the caption under a map. */
export function mapCaption(method: string, inputSize: number | null): string {
  const source = mapSource(method, inputSize);
  return source ? `${MAP_TITLES[method] ?? method} · ${source}` : (MAP_TITLES[method] ?? method);
}

// The maps of a slide in the order they are shown, with what each is and which layer it comes from.
export const MAP_ORDER = ['image', 'gradcam', 'cam', 'lime', 'ig'] as const;

export const MAP_TITLES: Record<string, string> = { image: 'image', gradcam: 'Grad-CAM', cam: 'CAM', lime: 'LIME', ig: 'Integrated Gradients' };

/** Where a map comes from, for a model whose input side is `inputSize` (its last stage is 1/32 of it). */
export function mapSource(method: string, inputSize: number | null): string {
  const side = inputSize ? Math.round(inputSize / 32) : null;
  const last = side ? `last stage, ${side} × ${side}` : 'last stage';
  const sources: Record<string, string> = { gradcam: last, cam: `${last}, class weights`, lime: 'superpixels of the image', ig: 'input pixels, black baseline' };
  return sources[method] ?? '';
}

/** "Grad-CAM · last stage, 7 × 7": the caption under a map. */
export function mapCaption(method: string, inputSize: number | null): string {
  const source = mapSource(method, inputSize);
  return source ? `${MAP_TITLES[method] ?? method} · ${source}` : (MAP_TITLES[method] ?? method);
}

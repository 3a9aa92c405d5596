// The maps of a slide in the order they are shown (the plain image first, then the methods in the table's
// order), with what each is and which layer it comes from (src/core/explanation-methods.ts).
import { isMethodName, METHOD_NAMES, methodShortTitle, methodSource, methodTitle } from '../core/explanation-methods.js';

export const MAP_ORDER = ['image', ...METHOD_NAMES] as const;

/** "LayerCAM", "image": a map's title. */
export function mapTitle(map: string): string {
  return methodTitle(map);
}

/** "Grad-CAM · last stage, 7 × 7": the caption under a map. */
export function mapCaption(map: string, inputSize: number | null): string {
  return isMethodName(map) ? `${mapTitle(map)} · ${methodSource(map, inputSize)}` : mapTitle(map);
}

/** "LayerCAM 14²": the caption under a small map, where the full one would be cut before its layer. */
export function mapShortCaption(map: string, inputSize: number | null): string {
  return isMethodName(map) ? methodShortTitle(map, inputSize) : mapTitle(map);
}

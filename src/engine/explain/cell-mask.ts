// The cell mask of a segmented twin (the cell cut out on black), for the localisation metrics.
//
// A plain "not black" rule (channel sum > 0.12) took in the faint rings of red cells that the
// segmentation left around the white cell, and JPEG specks in corners. Here a pixel is on when its
// brightest channel passes 0.35 (the cut-out cells are bright pink; the rings and JPEG noise stay far
// below), specks under 0.2% of the image (100 pixels at 224 px) are dropped, and holes inside a cell (dark chromatin) filled.

import { components } from '../../core/components.js';

const ON_LEVEL = 0.35;
const MIN_COMPONENT = 0.002;
/** A mask covering less than this share of the image is a failed segmentation (pale Pro stains): skipped. */
export const MIN_MASK_SHARE = 0.01;

/** The mask of a segmented image given as size × size × 3 values in [0,1]; null when it is near-empty. */
export function cellMask(rgb: Float32Array, size: number): Uint8Array | null {
  const bright = (p: number) => Math.max(rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2]) > ON_LEVEL;
  const cells = components(size, bright);
  const keep = (p: number) => cells.label[p] > 0 && cells.sizes[cells.label[p]] >= MIN_COMPONENT * size * size;
  // Background = off pixels connected to the border; every other off pixel is a hole in a cell.
  const off = components(size, (p) => !keep(p));
  const border = new Set<number>();
  for (let i = 0; i < size; i++) for (const p of [i, (size - 1) * size + i, i * size, i * size + size - 1]) if (off.label[p]) border.add(off.label[p]);
  const mask = new Uint8Array(size * size);
  let on = 0;
  for (let p = 0; p < mask.length; p++) {
    if (keep(p) || !border.has(off.label[p])) {
      mask[p] = 1;
      on++;
    }
  }
  return on / mask.length < MIN_MASK_SHARE ? null : mask;
}

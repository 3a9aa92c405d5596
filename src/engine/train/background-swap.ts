// Background swap: a training augmentation that keeps an image's white cells (from its segmented twin)
// and replaces everything around them with the smear of another training image, its own white cells
// filled with that smear's mean colour. The surroundings then say nothing about the class, so the model
// has to read the cells, and its heatmaps can land on them (issue #23). Only the training part's masks
// are read; images whose segmentation failed keep their own background.
import path from 'node:path';
import { decodeRgb, readImageFile, toModelInput, type ImageLimits, type ResizeMode } from '../../ingest/image.js';
import { cellMask } from '../explain/cell-mask.js';

/** Pixels added around each cell, so that its rim and cytoplasm stay with it. */
const DILATE = 2;

/** Grows a mask by `r` pixels (a square neighbourhood). */
export function dilate(mask: Uint8Array, size: number, r: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      if (!mask[y * size + x]) continue;
      for (let yy = Math.max(0, y - r); yy <= Math.min(size - 1, y + r); yy++) out.fill(1, yy * size + Math.max(0, x - r), yy * size + Math.min(size - 1, x + r) + 1);
    }
  return out;
}

/** The cell masks of `files` from their segmented twins under `masksDir` (null where missing or failed). */
export async function loadCellMasks(masksDir: string, files: string[], size: number, resize: ResizeMode, limits: ImageLimits): Promise<Array<Uint8Array | null>> {
  const masks: Array<Uint8Array | null> = [];
  for (const file of files) {
    try {
      const twin = await toModelInput(await decodeRgb(await readImageFile(path.join(masksDir, file), limits), limits), size, resize);
      const mask = cellMask(twin, size);
      masks.push(mask && dilate(mask, size, DILATE));
    } catch {
      masks.push(null);
    }
  }
  return masks;
}

/** Image i's cells on image j's smear (j's cells filled with its mean background colour), as bytes. */
export function swapBackground(cells: Uint8Array, cellMask: Uint8Array, smear: Uint8Array, smearMask: Uint8Array): Uint8Array {
  const mean = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < smearMask.length; p++) {
    if (smearMask[p]) continue;
    for (let c = 0; c < 3; c++) mean[c] += smear[p * 3 + c];
    n++;
  }
  const fill = mean.map((v) => Math.round(v / Math.max(1, n)));
  const out = new Uint8Array(cells.length);
  for (let p = 0; p < cellMask.length; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = cellMask[p] ? cells[p * 3 + c] : smearMask[p] ? fill[c] : smear[p * 3 + c];
  }
  return out;
}

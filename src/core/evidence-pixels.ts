// Evidence boxes on pixels: the crop of each cell from the slide at its own resolution, and the boxes drawn
// on the zoom's field. A box is in fractions of the square the model sees, so where it falls on the original
// depends on how the slide was squared (stretched, or letterboxed on black).
import sharp from 'sharp';
import type { RgbImage } from '../ingest/image.js';
import type { EvidenceBox } from './evidence.js';

/** Colours of the boxes, cell 1 first (the crops' list names them in the same colours): saturated, to show on
 *  a pale field and on black (cells cut out) alike. */
export const BOX_COLOURS: Array<[number, number, number]> = [
  [0, 200, 0],
  [230, 0, 230],
  [255, 140, 0],
];

/** The box's rectangle on the original, in its pixels, kept inside it. */
export function boxOnOriginal(box: EvidenceBox, width: number, height: number, resize: 'stretch' | 'letterbox'): { left: number; top: number; width: number; height: number } {
  const side = Math.max(width, height);
  const [sx, sy, ox, oy] = resize === 'stretch' ? [width, height, 0, 0] : [side, side, (side - width) / 2, (side - height) / 2];
  const left = Math.max(0, Math.min(width - 1, Math.round(box.x * sx - ox)));
  const top = Math.max(0, Math.min(height - 1, Math.round(box.y * sy - oy)));
  return { left, top, width: Math.max(1, Math.min(width - left, Math.round(box.w * sx))), height: Math.max(1, Math.min(height - top, Math.round(box.h * sy))) };
}

/** The cell cut from the original at its own resolution and enlarged 2× (nearest: each pixel as it was), as a PNG. */
export function cropPng(original: RgbImage, box: EvidenceBox, resize: 'stretch' | 'letterbox'): Promise<Buffer> {
  const r = boxOnOriginal(box, original.width, original.height, resize);
  return sharp(original.data, { raw: { width: original.width, height: original.height, channels: 3 } })
    .extract(r)
    .resize(r.width * 2, r.height * 2, { kernel: 'nearest' })
    .png({ compressionLevel: 2 })
    .toBuffer();
}

/** A copy of a square field (as the zoom shows it) with each box's outline drawn in its colour, about 1/150 of the side thick. */
export function drawBoxes(field: { width: number; height: number; data: Uint8Array | Buffer }, boxes: EvidenceBox[]): { width: number; height: number; data: Buffer } {
  const { width, height } = field;
  const data = Buffer.from(field.data);
  const thick = Math.max(1, Math.round(Math.max(width, height) / 150));
  const paint = (x: number, y: number, c: [number, number, number]) => {
    if (x >= 0 && y >= 0 && x < width && y < height) data.set(c, (y * width + x) * 3);
  };
  boxes.forEach((b, i) => {
    const c = BOX_COLOURS[i % BOX_COLOURS.length];
    const [x0, y0] = [Math.round(b.x * width), Math.round(b.y * height)];
    const [x1, y1] = [Math.min(width - 1, Math.round((b.x + b.w) * width)), Math.min(height - 1, Math.round((b.y + b.h) * height))];
    for (let t = 0; t < thick; t++) {
      for (let x = x0; x <= x1; x++) {
        paint(x, y0 + t, c);
        paint(x, y1 - t, c);
      }
      for (let y = y0; y <= y1; y++) {
        paint(x0 + t, y, c);
        paint(x1 - t, y, c);
      }
    }
  });
  return { width, height, data };
}

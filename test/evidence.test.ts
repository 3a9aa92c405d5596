import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { evidenceBoxes } from '../src/core/evidence.js';

const SIZE = 96;
/** A pink field with purple discs (white cells' nuclei) at the given centres and radius, in [0, 1]. */
function field(discs: Array<[number, number, number]>): Float32Array {
  const image = new Float32Array(SIZE * SIZE * 3);
  for (let p = 0; p < SIZE * SIZE; p++) {
    const [x, y] = [p % SIZE, Math.floor(p / SIZE)];
    const inside = discs.some(([cx, cy, r]) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r);
    image.set(inside ? [0.45, 0.25, 0.7] : [0.9, 0.75, 0.8], p * 3);
  }
  return image;
}
/** A map that is 1 within radius r of (cx, cy), else 0.01. */
const mapAt = (cx: number, cy: number, r: number) => Float32Array.from({ length: SIZE * SIZE }, (_, p) => (((p % SIZE) - cx) ** 2 + (Math.floor(p / SIZE) - cy) ** 2 <= r * r ? 1 : 0.01));
const holds = (b: { x: number; y: number; w: number; h: number }, x: number, y: number) => x / SIZE >= b.x && x / SIZE <= b.x + b.w && y / SIZE >= b.y && y / SIZE <= b.y + b.h;

describe('evidence boxes: the cells under the map', () => {
  it('boxes the stained cell with the most of the map first, with its share, and the other cells after it', () => {
    const image = field([
      [20, 20, 8],
      [70, 60, 9],
    ]);
    const boxes = evidenceBoxes(mapAt(70, 60, 10), image, SIZE);
    expect(boxes).toHaveLength(1); // the other cell holds under 5% of the map: not evidence
    expect(holds(boxes[0], 70, 60)).toBe(true);
    expect(holds(boxes[0], 20, 20)).toBe(false);
    expect(boxes[0].share).toBeGreaterThan(0.7);
    // A map on both: both boxed, the one with more of the map first, shares adding up to no more than 1.
    const second = mapAt(20, 20, 6);
    const both = Float32Array.from(mapAt(70, 60, 10), (v, p) => Math.max(v, second[p]));
    const two = evidenceBoxes(both, image, SIZE);
    expect(two).toHaveLength(2);
    expect(holds(two[0], 70, 60) && holds(two[1], 20, 20)).toBe(true);
    expect(two[0].share).toBeGreaterThan(two[1].share);
    expect(two[0].share + two[1].share).toBeLessThanOrEqual(1.0001);
    for (const b of two) expect([b.x, b.y, b.x + b.w, b.y + b.h].every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('counts each part of the map in one box only, where neighbouring cells’ boxes overlap', () => {
    const image = field([
      [38, 48, 8],
      [60, 48, 8],
    ]);
    const right = mapAt(60, 48, 12);
    const both = Float32Array.from(mapAt(38, 48, 12), (v, p) => Math.max(v, right[p]));
    const boxes = evidenceBoxes(both, image, SIZE);
    expect(boxes).toHaveLength(2);
    expect(boxes[0].x + boxes[0].w > boxes[1].x && boxes[1].x + boxes[1].w > boxes[0].x).toBe(true); // they overlap
    expect(boxes[0].share + boxes[1].share).toBeLessThanOrEqual(1.0001);
  });

  it('without a stained cell (a blank field), boxes the map’s peak', () => {
    const [box] = evidenceBoxes(mapAt(30, 70, 5), field([]), SIZE);
    expect(holds(box, 30, 70)).toBe(true);
    expect(box.w).toBeCloseTo(0.25 * 1.7, 1);
  });

  const data = path.resolve('../shared/data/taleqani');
  const segmented = path.resolve('../shared/data/taleqani-segmented');
  it.skipIf(!fs.existsSync(segmented))('on Taleqani slides, the boxes sit on the white cells the segmented twins cut out (≥ 80%)', async () => {
    let [on, boxes] = [0, 0];
    const shareSums: number[] = [];
    for (const cls of ['Benign', 'Early', 'Pre', 'Pro']) {
      for (const f of fs.readdirSync(path.join(data, cls)).filter((_, i) => i % 60 === 0)) {
        const rgb = (file: string) => sharp(file).resize(224, 224, { fit: 'fill' }).removeAlpha().raw().toBuffer();
        const [img, cut] = await Promise.all([rgb(path.join(data, cls, f)), rgb(path.join(segmented, cls, f))]);
        const mask = Float32Array.from({ length: 224 * 224 }, (_, p) => (Math.max(cut[p * 3], cut[p * 3 + 1], cut[p * 3 + 2]) > 90 ? 1 : 0));
        if (mask.reduce((a, b) => a + b, 0) < 500) continue; // a failed segmentation (pale Pro stains)
        // The map is the mask itself: which cells the boxes find is the stain's work, not a model's.
        for (const b of evidenceBoxes(
          mask,
          Float32Array.from(img, (v) => v / 255),
          224,
        )) {
          const [x0, y0, w] = [Math.round((b.x + b.w / 4) * 224), Math.round((b.y + b.h / 4) * 224), Math.round((b.w / 2) * 224)];
          let hit = 0;
          for (let y = y0; y < y0 + w; y++) for (let x = x0; x < x0 + w; x++) hit += mask[y * 224 + x];
          boxes++;
          if (hit / (w * w) >= 0.1) on++;
        }
      }
    }
    console.log(`evidence boxes on a segmented white cell: ${on}/${boxes}`);
    expect(Math.max(...shareSums)).toBeLessThanOrEqual(1.0001); // each pixel of the map counted in one box at most
    expect(boxes).toBeGreaterThan(60);
    expect(on / boxes).toBeGreaterThanOrEqual(0.8);
  });
});

// The localisation metrics of xai-eval: a map that points into the cell scores, a random map scores at
// chance, a flat map points nowhere, and the cell mask leaves out what is not the cell.
import { describe, expect, it } from 'vitest';
import { peakOf, pointingGame, relevanceMass } from '../src/engine/explain/quality.js';
import { cellMask } from '../src/engine/explain/cell-mask.js';
import { rng } from '../src/core/random.js';

const SIZE = 64;

/** A mask with one disc of radius r at (cy, cx). */
function disc(cy: number, cx: number, r: number): Uint8Array {
  const m = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) if ((y - cy) ** 2 + (x - cx) ** 2 <= r * r) m[y * SIZE + x] = 1;
  return m;
}

/** Share of pixels within `tol` of the mask: the pointing game's chance level for a uniformly placed peak. */
function dilatedShare(mask: Uint8Array, tol: number): number {
  let on = 0;
  for (let p = 0; p < mask.length; p++) {
    const py = Math.floor(p / SIZE);
    const px = p % SIZE;
    let hit = false;
    for (let q = 0; q < mask.length && !hit; q++) if (mask[q] && (Math.floor(q / SIZE) - py) ** 2 + ((q % SIZE) - px) ** 2 <= tol * tol) hit = true;
    if (hit) on++;
  }
  return on / mask.length;
}

describe('pointing game', () => {
  it('scores a hit for a map peaked inside the cell and a miss for one peaked outside', () => {
    const mask = disc(40, 40, 8);
    const map = new Float32Array(SIZE * SIZE).fill(0.1);
    map[40 * SIZE + 42] = 1;
    expect(pointingGame(map, mask, SIZE, 2)).toBe(true);
    map[40 * SIZE + 42] = 0.1;
    map[5 * SIZE + 5] = 1;
    expect(pointingGame(map, mask, SIZE, 2)).toBe(false);
  });

  it('gives a flat map no point, instead of the top-left corner', () => {
    const corner = disc(0, 0, 10);
    expect(peakOf(new Float32Array(SIZE * SIZE), SIZE)).toBeNull();
    expect(pointingGame(new Float32Array(SIZE * SIZE), corner, SIZE, 2)).toBe(false);
    expect(pointingGame(new Float32Array(SIZE * SIZE).fill(Number.NaN), corner, SIZE, 2)).toBe(false);
  });

  it('takes the middle of a plateau of tied maxima, and ignores NaNs', () => {
    const map = new Float32Array(SIZE * SIZE);
    for (let y = 30; y <= 34; y++) for (let x = 10; x <= 20; x++) map[y * SIZE + x] = 1;
    map[0] = Number.NaN;
    expect(peakOf(map, SIZE)).toEqual([32, 15]);
  });

  it('scores random maps at chance over many masks', () => {
    const r = rng(7);
    const hits: number[] = [];
    const chance: number[] = [];
    for (let i = 0; i < 300; i++) {
      const mask = disc(8 + Math.floor(r() * 48), 8 + Math.floor(r() * 48), 4 + Math.floor(r() * 6));
      const map = Float32Array.from({ length: SIZE * SIZE }, () => r());
      hits.push(pointingGame(map, mask, SIZE, 2) ? 1 : 0);
      if (i < 60) chance.push(dilatedShare(mask, 2));
    }
    const rate = hits.reduce((a, b) => a + b, 0) / hits.length;
    const expected = chance.reduce((a, b) => a + b, 0) / chance.length;
    // Binomial standard error at n = 300 is about 0.02 here; 4 of them is a generous band that a biased peak misses.
    expect(Math.abs(rate - expected)).toBeLessThan(0.08);
    expect(rate).toBeLessThan(0.3);
  });

  it('measures relevance mass as the share of the map inside the cell', () => {
    const mask = disc(32, 32, 10);
    const map = Float32Array.from(mask, (m) => (m ? 3 : 1));
    const inside = mask.reduce((a, b) => a + b, 0);
    expect(relevanceMass(map, mask)).toBeCloseTo((3 * inside) / (3 * inside + (SIZE * SIZE - inside)), 6);
  });
});

describe('cell mask of a segmented image', () => {
  it('keeps the bright cell with its dark chromatin, drops faint red-cell rings and specks', () => {
    const rgb = new Float32Array(SIZE * SIZE * 3);
    const paint = (p: number, v: [number, number, number]) => rgb.set(v, p * 3);
    const cell = disc(20, 20, 9);
    const chromatin = disc(20, 20, 3);
    const ring = disc(45, 45, 8);
    const ringInside = disc(45, 45, 6);
    for (let p = 0; p < SIZE * SIZE; p++) {
      if (cell[p]) paint(p, chromatin[p] ? [0.2, 0.05, 0.15] : [0.95, 0.5, 0.8]);
      else if (ring[p] && !ringInside[p]) paint(p, [0.25, 0.05, 0.1]); // a faint red-cell ring left by the cut-out
    }
    paint(2 * SIZE + 60, [1, 1, 1]); // a JPEG speck
    const mask = cellMask(rgb, SIZE)!;
    expect(mask).not.toBeNull();
    expect(Array.from(mask)).toEqual(Array.from(cell));
  });

  it('is null for a failed segmentation (nearly all black)', () => {
    const rgb = new Float32Array(SIZE * SIZE * 3);
    rgb.set([1, 1, 1], 10 * 3);
    expect(cellMask(rgb, SIZE)).toBeNull();
  });
});

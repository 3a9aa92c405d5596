// The background swap (issue #23): an image's cells kept, their surroundings taken from another smear
// whose own cells are filled, and nothing drawn from the random stream when it is off.
import { describe, expect, it } from 'vitest';
import { dilate, swapBackground } from '../src/engine/train/background-swap.js';
import { makeBatch } from '../src/engine/train/run-data.js';
import type { CachedImages } from '../src/engine/train/image-cache.js';
import { trainOptionsFrom } from '../src/headless/train.js';
import { loadConfig } from '../src/config.js';

const SIZE = 4;
/** A 4 × 4 image of one colour, as bytes. */
const plain = (rgb: [number, number, number]) => Uint8Array.from({ length: SIZE * SIZE * 3 }, (_, i) => rgb[i % 3]);
const maskOf = (on: number[]) => Uint8Array.from({ length: SIZE * SIZE }, (_, p) => (on.includes(p) ? 1 : 0));

describe('background swap', () => {
  it('grows a mask by r pixels, clipped at the borders', () => {
    const grown = dilate(maskOf([0]), SIZE, 1);
    expect([...grown]).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(dilate(maskOf([5]), SIZE, 1).reduce((a, b) => a + b, 0)).toBe(9);
  });

  it('keeps the cells, takes the other smear, and fills that smear’s cells with its mean background', () => {
    const cells = plain([200, 10, 10]);
    const smear = plain([50, 60, 70]);
    smear.set([0, 0, 0], 15 * 3); // the smear's own cell at pixel 15, on a background whose mean is (50, 60, 70)
    const out = swapBackground(cells, maskOf([0, 1]), smear, maskOf([15]));
    expect([...out.subarray(0, 6)]).toEqual([200, 10, 10, 200, 10, 10]);
    expect([...out.subarray(2 * 3, 3 * 3)]).toEqual([50, 60, 70]);
    expect([...out.subarray(15 * 3)]).toEqual([50, 60, 70]);
  });

  it('swaps in a batch when asked, and draws nothing from the random stream when off', () => {
    const pixels = new Uint8Array(2 * SIZE * SIZE * 3);
    pixels.set(plain([255, 0, 0]), 0);
    pixels.set(plain([0, 0, 255]), SIZE * SIZE * 3);
    const cache: CachedImages = { size: SIZE, pixels, stride: SIZE * SIZE * 3, files: ['a', 'b'] };
    const backgrounds = { masks: [maskOf([0]), maskOf([15])], pool: [0, 1] };
    const opts = { flips: false, rot90: false, colorJitter: 0 };
    let draws = 0;
    const counted = (values: number[]) => () => (draws++, values.shift() ?? 0);
    const off = makeBatch(cache, [0], opts, counted([]), backgrounds);
    expect(draws).toBe(0);
    expect(off[2 * 3]).toBe(1);
    // First draw: swap (0 < 1); second: the other image (0.9 · 2 → index 1).
    const on = makeBatch(cache, [0], { ...opts, backgroundSwap: 1 }, counted([0, 0.9]), backgrounds);
    expect([on[0], on[2]]).toEqual([1, 0]); // the cell, red
    expect([on[2 * 3], on[2 * 3 + 2]]).toEqual([0, 1]); // the surroundings, blue
  });

  it('refuses background=… without the segmented twins', () => {
    const config = loadConfig({ overrides: {} });
    expect(() => trainOptionsFrom({ data: 'd', out: 'o', augment: 'flips,background=0.5' }, config, [])).toThrow(/background=… needs --cell-masks DIR/);
    expect(trainOptionsFrom({ data: 'd', out: 'o', augment: 'flips,background=0.5', 'cell-masks': 'm' }, config, []).augment.backgroundSwap).toBe(0.5);
  });
});

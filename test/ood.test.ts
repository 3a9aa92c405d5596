import { describe, expect, it } from 'vitest';
import { fromFloat16, toFloat16 } from '../src/engine/bundle.js';
import { checkOod, fitOod, knnDistance, quantile, unitRows } from '../src/engine/ood/knn.js';
import { rng } from '../src/core/random.js';
import { withLabInBank } from '../src/engine/adapt/lab-ood.js';

/** n points of dim around `centre` (Gaussian-ish noise of the given spread), row-major. */
function cloud(n: number, centre: number[], spread: number, random: () => number): Float32Array {
  const out = new Float32Array(n * centre.length);
  for (let i = 0; i < n; i++) centre.forEach((c, j) => (out[i * centre.length + j] = c + spread * (random() + random() + random() - 1.5)));
  return out;
}

describe('out-of-distribution index', () => {
  it('unit rows, the k-th nearest cosine distance and the quantile, by hand', () => {
    const rows = unitRows(new Float32Array([3, 4, 0, 0, 0, 0]), 2);
    expect(Array.from(rows)).toEqual([0.6, 0.8, 0, 0, 0, 0].map((v) => Math.fround(v)));
    // Bank: (1,0), (0,1), (−1,0). Query (1,0): similarities 1, 0, −1.
    const bank = new Float32Array([1, 0, 0, 1, -1, 0]);
    const q = new Float32Array([1, 0]);
    expect(knnDistance(bank, 2, q, 1)).toBe(0);
    expect(knnDistance(bank, 2, q, 2)).toBe(1);
    expect(knnDistance(bank, 2, q, 3)).toBe(2);
    expect(knnDistance(bank, 2, q, 9)).toBe(2); // k past the bank: the farthest
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5); // numpy.quantile's linear rule
    expect(quantile([1, 2, 3, 4], 0.99)).toBeCloseTo(3.97, 10);
    expect(quantile([7], 0.99)).toBe(7);
  });

  it('flags points far from the training cloud and about 1 − quantile of new points from it', () => {
    const random = rng(5);
    const centre = Array.from({ length: 16 }, (_, j) => (j < 8 ? 1 : 0.2));
    const other = Array.from({ length: 16 }, (_, j) => (j < 8 ? 0.2 : 1));
    const index = fitOod(cloud(300, centre, 0.3, random), cloud(200, centre, 0.3, random), 16, 5, 0.95);
    expect(index.meta).toMatchObject({ method: 'knn-cosine', k: 5, quantile: 0.95, n: 300, dim: 16, file: 'ood.bin' });
    expect(index.meta.flagged.val).toEqual({ n: 200, unusual: 10 }); // above the 95th percentile of 200: 10
    const fresh = cloud(400, centre, 0.3, random);
    const flaggedFresh = Array.from({ length: 400 }, (_, r) => checkOod(index, fresh.subarray(r * 16, (r + 1) * 16)).unusual).filter(Boolean).length;
    expect(flaggedFresh / 400).toBeGreaterThan(0.01);
    expect(flaggedFresh / 400).toBeLessThan(0.12);
    const far = cloud(50, other, 0.3, random);
    const checks = Array.from({ length: 50 }, (_, r) => checkOod(index, far.subarray(r * 16, (r + 1) * 16)));
    expect(checks.every((c) => c.unusual && c.distance > c.threshold)).toBe(true);
    // Scale does not matter (cosine): a training point times 10 is as usual as itself.
    const one = cloud(1, centre, 0, random);
    expect(
      checkOod(
        index,
        one.map((v) => v * 10),
      ).distance,
    ).toBeCloseTo(checkOod(index, one).distance, 6);
    expect(() => checkOod(index, new Float32Array(8))).toThrow(/8 features but its out-of-distribution index has 16/);
    expect(() => fitOod(cloud(3, centre, 0.3, random), cloud(3, centre, 0.3, random), 16, 5, 0.95)).toThrow(/too few/);
  });

  it("a lab's slides in the bank, searched with their own k: the lab's new slides pass, a far point stays flagged", () => {
    const random = rng(11);
    const home = fitOod(cloud(200, [1, 0, 0, 0], 0.2, random), cloud(50, [1, 0, 0, 0], 0.2, random), 4, 30, 0.99);
    const labSlide = cloud(1, [0.3, 1, 0, 0], 0.2, random);
    expect(checkOod(home, labSlide).unusual).toBe(true);
    const labRows = Array.from({ length: 12 }, () => cloud(1, [0.3, 1, 0, 0], 0.2, random));
    const adapted = withLabInBank(home, labRows, [labSlide]);
    expect(adapted.meta.lab).toEqual({ n: 12, k: 5 }); // 12 rows could never give a 30th neighbour
    expect(adapted.meta.n).toBe(212);
    expect(checkOod(adapted, labSlide).unusual).toBe(false);
    expect(adapted.meta.flagged.lab).toEqual({ n: 1, unusual: 0 });
    expect(checkOod(adapted, new Float32Array([0, 0, 1, 0])).unusual).toBe(true);
    // Adapting again replaces the lab's rows rather than adding a second lab's.
    expect(withLabInBank(adapted, labRows.slice(0, 6), []).meta.n).toBe(206);
  });

  it('float16 storage: back to float32 within half precision, specials kept', () => {
    const values = new Float32Array([0, -0, 1, -2.5, 0.1234, 65504, 1e-6, 70000, -Infinity, NaN]);
    const back = fromFloat16(toFloat16(values));
    expect(back[0]).toBe(0);
    expect(Object.is(back[1], -0)).toBe(true);
    expect(back[2]).toBe(1);
    expect(back[3]).toBe(-2.5);
    expect(Math.abs(back[4] - 0.1234)).toBeLessThan(0.1234 * 2 ** -11);
    expect(back[5]).toBe(65504);
    expect(Math.abs(back[6] - 1e-6)).toBeLessThan(2 ** -25); // subnormal in half precision
    expect(back[7]).toBe(Infinity); // past the largest half
    expect(back[8]).toBe(-Infinity);
    expect(Number.isNaN(back[9])).toBe(true);
  });
});

// Measuring explanations instead of admiring them.
// - Deletion and insertion AUC (Petsiuk et al. 2018, RISE): remove the most relevant pixels first
//   (to black) and watch the class probability fall — a small area is good; or insert them into a
//   blurred copy and watch it rise — a large area is good.
// - Pointing game and relevance mass inside a localisation mask (the segmented cell).
// - The model-randomisation sanity check is in sanity.ts.
import * as tf from '@tensorflow/tfjs';
import { toClassProbabilities } from '../models/head.js';

/** Pixel indices, most relevant first (ties by index, so the order is deterministic). */
export function relevanceOrder(values: Float32Array): Int32Array {
  const idx = Int32Array.from(values.keys());
  return idx.sort((a, b) => values[b] - values[a] || a - b);
}

/** The trapezoid area under y over evenly spaced x in [0, 1]. */
export function areaUnder(y: number[]): number {
  if (y.length < 2) return y[0] ?? 0;
  let a = 0;
  for (let i = 1; i < y.length; i++) a += (y[i - 1] + y[i]) / 2;
  return a / (y.length - 1);
}

export function blurred(image: Float32Array, size: number): Float32Array {
  return tf.tidy(() => {
    let x = tf.tensor4d(image, [1, size, size, 3]);
    const k = Math.max(3, Math.round(size / 10) | 1);
    for (let i = 0; i < 3; i++) x = tf.avgPool(x, k, 1, 'same');
    return x.dataSync() as Float32Array;
  });
}

/**
 * Probability of `target` as pixels move, most relevant first, from `from` to `to`, in `steps` equal
 * steps (steps + 1 points, batched through the model).
 */
export async function causalCurve(model: tf.LayersModel, classes: number, target: number, from: Float32Array, to: Float32Array, order: Int32Array, size: number, steps: number): Promise<number[]> {
  const pixels = size * size;
  const frames = new Float32Array((steps + 1) * pixels * 3);
  const current = from.slice();
  for (let s = 0; s <= steps; s++) {
    const upto = Math.round((s / steps) * pixels);
    const before = Math.round(((s - 1) / steps) * pixels);
    for (let k = Math.max(0, before); s > 0 && k < upto; k++) {
      const p = order[k];
      current[p * 3] = to[p * 3];
      current[p * 3 + 1] = to[p * 3 + 1];
      current[p * 3 + 2] = to[p * 3 + 2];
    }
    frames.set(current, s * pixels * 3);
  }
  const out = tf.tidy(() => model.predict(tf.tensor4d(frames, [steps + 1, size, size, 3])) as tf.Tensor);
  const raw = (await out.data()) as Float32Array;
  out.dispose();
  return toClassProbabilities(raw, steps + 1, classes).map((p) => p[target]);
}

export async function deletionAuc(model: tf.LayersModel, classes: number, target: number, image: Float32Array, values: Float32Array, size: number, steps = 16): Promise<number> {
  return areaUnder(await causalCurve(model, classes, target, image, new Float32Array(image.length), relevanceOrder(values), size, steps));
}

export async function insertionAuc(model: tf.LayersModel, classes: number, target: number, image: Float32Array, values: Float32Array, size: number, steps = 16): Promise<number> {
  return areaUnder(await causalCurve(model, classes, target, blurred(image, size), image, relevanceOrder(values), size, steps));
}

/** Hit when the map's maximum lies within `tolerance` pixels of the mask (Zhang et al. 2018). */
export function pointingGame(values: Float32Array, mask: Uint8Array, size: number, tolerance: number): boolean {
  const peak = peakOf(values, size);
  if (!peak) return false;
  const [by, bx] = peak;
  for (let y = Math.max(0, by - tolerance); y <= Math.min(size - 1, by + tolerance); y++) {
    for (let x = Math.max(0, bx - tolerance); x <= Math.min(size - 1, bx + tolerance); x++) {
      if ((y - by) ** 2 + (x - bx) ** 2 <= tolerance ** 2 && mask[y * size + x]) return true;
    }
  }
  return false;
}

/**
 * Where a map points: its maximum, NaNs ignored. Tied maxima (an upsampled plateau) give the tied pixel
 * nearest to their centroid, not the first in raster order; a map that is flat over half the image or
 * more (a constant map normalises to all zeros) points nowhere. The old "first maximum" sent every flat
 * map to the top-left corner, which a cell often touches.
 */
export function peakOf(values: Float32Array, size: number): [number, number] | null {
  let hi = -Infinity;
  for (const v of values) if (v > hi) hi = v;
  if (hi === -Infinity) return null;
  const tol = Math.max(Math.abs(hi) * 1e-6, 1e-12);
  const tied: number[] = [];
  values.forEach((v, i) => {
    if (v >= hi - tol) tied.push(i);
  });
  if (tied.length >= values.length / 2) return null;
  const cy = tied.reduce((a, i) => a + Math.floor(i / size), 0) / tied.length;
  const cx = tied.reduce((a, i) => a + (i % size), 0) / tied.length;
  const best = tied.reduce((a, i) => ((Math.floor(i / size) - cy) ** 2 + ((i % size) - cx) ** 2 < (Math.floor(a / size) - cy) ** 2 + ((a % size) - cx) ** 2 ? i : a));
  return [Math.floor(best / size), best % size];
}

/** Share of the map's total relevance that falls inside the mask. */
export function relevanceMass(values: Float32Array, mask: Uint8Array): number {
  let inside = 0;
  let total = 0;
  values.forEach((v, i) => {
    total += v;
    if (mask[i]) inside += v;
  });
  return total > 0 ? inside / total : 0;
}

/**
 * The box in the bottom-right corner where the Taleqani images carry their scale mark (x ≥ 85%,
 * y ≥ 90% of the side, 1.5% of the image): a model that learned the mark as a shortcut puts relevance there.
 */
export function cornerMask(size: number): Uint8Array {
  const mask = new Uint8Array(size * size);
  for (let y = Math.floor(size * 0.9); y < size; y++) for (let x = Math.floor(size * 0.85); x < size; x++) mask[y * size + x] = 1;
  return mask;
}

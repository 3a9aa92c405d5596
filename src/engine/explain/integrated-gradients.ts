// Integrated Gradients (Sundararajan et al. 2017): attributions (x − x′) ⊙ ∫₀¹ ∂F(x′ + α(x − x′))/∂x dα,
// the integral by the trapezoid rule over m steps (m + 1 points, batched). F is the class score (logit).
// The completeness gap |Σ attributions − (F(x) − F(x′))| / |F(x) − F(x′)| says how good the integral is.
import * as tf from '@tensorflow/tfjs';
import { splitAtFeatures } from '../models/feature-split.js';
import type { ExplainHooks, ExplainInput, ExplanationMethod } from './types.js';

export interface IgOptions {
  steps: number;
  baseline: 'black' | 'white' | 'blur';
  /** Points per forward/backward pass. */
  batch: number;
}

function baselineOf(kind: IgOptions['baseline'], image: Float32Array, size: number): Float32Array {
  if (kind === 'black') return new Float32Array(image.length);
  if (kind === 'white') return new Float32Array(image.length).fill(1);
  return tf.tidy(() => {
    // A strong box blur (three passes ≈ Gaussian, σ ≈ size / 16) keeps colour and drops structure.
    let x = tf.tensor4d(image, [1, size, size, 3]);
    const k = Math.max(3, Math.round(size / 16) | 1);
    for (let i = 0; i < 3; i++) x = tf.avgPool(x, k, 1, 'same');
    return x.dataSync() as Float32Array;
  });
}

export const integratedGradients: ExplanationMethod<IgOptions> = {
  name: 'ig',
  defaults: { steps: 32, baseline: 'black', batch: 8 },
  async compute({ model, image, size, target, inputGradients }, { steps, baseline, batch }, hooks) {
    const base = baselineOf(baseline, image, size);
    if (inputGradients) return onGradientGraph(inputGradients, image, base, target, steps, hooks, size);
    const split = splitAtFeatures(model);
    const x = tf.tensor4d(image, [1, size, size, 3]);
    const x0 = tf.tensor4d(base, [1, size, size, 3]);
    const diff = tf.sub(x, x0);
    const score = (t: tf.Tensor) => split.imageScores(t).slice([0, target], [-1, 1]).sum();
    let total: tf.Tensor = tf.zerosLike(x);
    try {
      for (let start = 0; start <= steps; start += batch) {
        await hooks.checkpoint?.();
        const alphas = Array.from({ length: Math.min(batch, steps + 1 - start) }, (_, i) => (start + i) / steps);
        // Trapezoid weights: half at the two ends.
        const weights = alphas.map((a) => (a === 0 || a === 1 ? 0.5 : 1) / steps);
        const next = tf.tidy(() => {
          const a = tf.tensor1d(alphas).reshape([-1, 1, 1, 1]);
          const points = tf.add(x0, tf.mul(a, diff));
          const g = tf.grad(score)(points);
          return tf.add(total, tf.sum(tf.mul(g, tf.tensor1d(weights).reshape([-1, 1, 1, 1])), 0, true));
        });
        total.dispose();
        total = next;
        hooks.progress?.(Math.min(start + batch, steps + 1), steps + 1);
      }
      const attributions = tf.mul(diff, total);
      const [sumAttr, fx, fx0] = tf.tidy(() =>
        [tf.sum(attributions), split.imageScores(x).slice([0, target], [1, 1]).sum(), split.imageScores(x0).slice([0, target], [1, 1]).sum()].map((t) => t.dataSync()[0]),
      );
      const delta = fx - fx0;
      const gap = Math.abs(sumAttr - delta) / Math.max(Math.abs(delta), 1e-12);
      // The map: attributions summed over colour channels, positive evidence only.
      const map = tf.tidy(() => tf.relu(tf.sum(attributions, -1)).dataSync() as Float32Array);
      attributions.dispose();
      return { map, diagnostics: { completenessGap: gap, scoreDifference: delta, sumOfAttributions: sumAttr } };
    } finally {
      tf.dispose([x, x0, diff, total]);
    }
  },
};

/**
 * The same integral on a runtime with an input-gradient graph (ONNX Runtime): the points go in chunks
 * of one size (the last is padded with weight 0) so that the runtime plans one shape only.
 */
async function onGradientGraph(
  inputGradients: NonNullable<ExplainInput['inputGradients']>,
  image: Float32Array,
  base: Float32Array,
  target: number,
  steps: number,
  hooks: ExplainHooks,
  size: number,
): Promise<{ map: Float32Array; diagnostics: Record<string, number> }> {
  const len = image.length;
  const points = steps + 1;
  // A backward pass keeps every activation: at most 12 points at 224 px, fewer for larger inputs (one
  // B7 point at 600 px holds about 1.7 GB).
  const most = Math.max(1, Math.min(12, Math.floor((12 * 224 * 224) / (size * size))));
  const chunk = Math.ceil(points / Math.ceil(points / most));
  const total = new Float64Array(len);
  let f0 = 0;
  let f1 = 0;
  for (let start = 0; start < points; start += chunk) {
    await hooks.checkpoint?.();
    const batch = new Float32Array(chunk * len);
    const weights: number[] = [];
    for (let k = 0; k < chunk; k++) {
      const i = Math.min(start + k, steps);
      const alpha = i / steps;
      weights.push(start + k > steps ? 0 : (i === 0 || i === steps ? 0.5 : 1) / steps);
      const off = k * len;
      for (let j = 0; j < len; j++) batch[off + j] = base[j] + alpha * (image[j] - base[j]);
    }
    const { grads, scores } = await inputGradients(batch, chunk, target);
    for (let k = 0; k < chunk; k++) {
      const i = start + k;
      if (i === 0) f0 = scores[k];
      if (i === steps) f1 = scores[k];
      const w = weights[k];
      if (!w) continue;
      const off = k * len;
      for (let j = 0; j < len; j++) total[j] += w * grads[off + j];
    }
    hooks.progress?.(Math.min(start + chunk, points), points);
  }
  const pixels = len / 3;
  const map = new Float32Array(pixels);
  let sumAttr = 0;
  for (let p = 0; p < pixels; p++) {
    let a = 0;
    for (let c = 0; c < 3; c++) a += (image[p * 3 + c] - base[p * 3 + c]) * total[p * 3 + c];
    sumAttr += a;
    map[p] = Math.max(0, a);
  }
  const delta = f1 - f0;
  const gap = Math.abs(sumAttr - delta) / Math.max(Math.abs(delta), 1e-12);
  return { map, diagnostics: { completenessGap: gap, scoreDifference: delta, sumOfAttributions: sumAttr } };
}

// LIME for images (Ribeiro et al. 2016), as the reference lime_image does it: SLIC superpixels; N
// samples that switch superpixels off at random (the first sample keeps all on), a switched-off
// superpixel taking its own mean colour; the model's probability for the target class on each sample;
// an exponential kernel on the cosine distance to the all-on sample (width 0.25); weighted ridge
// regression (α = 1, with intercept). The heatmap holds each superpixel's positive coefficient.
import * as tf from '@tensorflow/tfjs';
import { toClassProbabilities } from '../models/head.js';
import { rng } from '../../core/random.js';
import { slic } from './slic.js';
import type { ExplanationMethod } from './types.js';

export interface LimeOptions {
  samples: number;
  segments: number;
  compactness: number;
  kernelWidth: number;
  seed: number;
  batch: number;
}

/** Solves (A) x = b for symmetric positive definite A by Cholesky. */
export function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / l[j * n + j];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
  return x;
}

/** Weighted ridge regression with an unpenalised intercept; returns coefficients and weighted R². */
export function weightedRidge(x: Uint8Array[], y: number[], w: number[], features: number, alpha: number): { coef: Float64Array; intercept: number; r2: number } {
  const sw = w.reduce((a, b) => a + b, 0);
  const mx = new Float64Array(features);
  let my = 0;
  x.forEach((row, i) => {
    for (let j = 0; j < features; j++) mx[j] += (w[i] * row[j]) / sw;
    my += (w[i] * y[i]) / sw;
  });
  const a = new Float64Array(features * features);
  const b = new Float64Array(features);
  x.forEach((row, i) => {
    const yc = y[i] - my;
    for (let j = 0; j < features; j++) {
      const xj = row[j] - mx[j];
      b[j] += w[i] * xj * yc;
      for (let k = 0; k <= j; k++) a[j * features + k] += w[i] * xj * (row[k] - mx[k]);
    }
  });
  for (let j = 0; j < features; j++) {
    for (let k = 0; k < j; k++) a[k * features + j] = a[j * features + k];
    a[j * features + j] += alpha;
  }
  const coef = solveSpd(a, b, features);
  let intercept = my;
  for (let j = 0; j < features; j++) intercept -= coef[j] * mx[j];
  let ssRes = 0;
  let ssTot = 0;
  x.forEach((row, i) => {
    let pred = intercept;
    for (let j = 0; j < features; j++) pred += coef[j] * row[j];
    ssRes += w[i] * (y[i] - pred) ** 2;
    ssTot += w[i] * (y[i] - my) ** 2;
  });
  return { coef, intercept, r2: ssTot > 0 ? 1 - ssRes / ssTot : 1 };
}

export const lime: ExplanationMethod<LimeOptions> = {
  name: 'lime',
  defaults: { samples: 300, segments: 50, compactness: 10, kernelWidth: 0.25, seed: 42, batch: 16 },
  async compute(input, o, hooks) {
    const { model, classes, image, size, target } = input;
    const pixels = size * size;
    const { labels, count } = slic(image, size, size, o.segments, o.compactness);
    // Each superpixel's mean colour: what a switched-off superpixel shows.
    const mean = new Float64Array(count * 3);
    const members = new Float64Array(count);
    for (let p = 0; p < pixels; p++) {
      const s = labels[p];
      members[s]++;
      for (let c = 0; c < 3; c++) mean[s * 3 + c] += image[p * 3 + c];
    }
    for (let s = 0; s < count; s++) for (let c = 0; c < 3; c++) mean[s * 3 + c] /= members[s];

    const random = rng(o.seed);
    const data: Uint8Array[] = [];
    for (let i = 0; i < o.samples; i++) {
      const row = new Uint8Array(count);
      for (let j = 0; j < count; j++) row[j] = i === 0 ? 1 : random() < 0.5 ? 1 : 0;
      data.push(row);
    }
    const scores: number[] = [];
    for (let start = 0; start < o.samples; start += o.batch) {
      await hooks.checkpoint?.();
      const rows = data.slice(start, start + o.batch);
      const batch = new Float32Array(rows.length * pixels * 3);
      rows.forEach((row, k) => {
        for (let p = 0; p < pixels; p++) {
          const s = labels[p];
          for (let c = 0; c < 3; c++) batch[(k * pixels + p) * 3 + c] = row[s] ? image[p * 3 + c] : mean[s * 3 + c];
        }
      });
      if (input.forward) {
        const probs = await input.forward(batch, rows.length);
        for (let k = 0; k < rows.length; k++) scores.push(probs[k * classes.length + target]);
      } else {
        const out = tf.tidy(() => model.predict(tf.tensor4d(batch, [rows.length, size, size, 3])) as tf.Tensor);
        const raw = (await out.data()) as Float32Array;
        out.dispose();
        for (const p of toClassProbabilities(raw, rows.length, classes.length)) scores.push(p[target]);
      }
      hooks.progress?.(Math.min(start + o.batch, o.samples), o.samples);
    }
    // Cosine distance of each sample to the all-on sample, through the exponential kernel.
    const weights = data.map((row) => {
      const on = row.reduce((a, b) => a + b, 0);
      const d = on === 0 ? 1 : 1 - on / (Math.sqrt(on) * Math.sqrt(count));
      return Math.sqrt(Math.exp(-(d * d) / (o.kernelWidth * o.kernelWidth)));
    });
    const fit = weightedRidge(data, scores, weights, count, 1);
    // Evidence for the class only, as lime's positive_only view: a superpixel that argues against it
    // shows as irrelevant rather than as a mid-scale value after normalisation.
    const map = new Float32Array(pixels);
    for (let p = 0; p < pixels; p++) map[p] = Math.max(0, fit.coef[labels[p]]);
    return { map, diagnostics: { superpixels: count, r2: fit.r2, intercept: fit.intercept } };
  },
};

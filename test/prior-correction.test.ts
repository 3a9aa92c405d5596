import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { LoadedBundle } from '../src/engine/bundle.js';
import { headModel, trainHead } from '../src/engine/retrain/head-only.js';
import { applyPriorCorrection, removePriorCorrection } from '../src/engine/train/prior-correction.js';

function tinyModel(units: number, activation: 'softmax' | 'sigmoid'): tf.LayersModel {
  const input = tf.input({ shape: [3] });
  const out = tf.layers
    .dense({ units, activation, name: 'predictions', biasInitializer: tf.initializers.randomNormal({ seed: 3 }), kernelInitializer: tf.initializers.randomNormal({ seed: 1 }) })
    .apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}
const x = tf.tensor2d([
  [0.3, -1.2, 2],
  [1, 0.5, -0.7],
  [-2, 0.1, 0.4],
]);
const rows = (m: tf.LayersModel) => (m.predict(x) as tf.Tensor).arraySync() as number[][];
const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((r, i) => r.map((v, j) => Math.abs(v - b[i][j]))));

describe('prior correction', () => {
  it('softmax: the corrected probabilities are the old ones divided by the class weights, renormalised', () => {
    const m = tinyModel(3, 'softmax');
    const before = rows(m);
    const w = [2, 0.5, 1.25];
    const shift = applyPriorCorrection(m, ['a', 'b', 'c'], w);
    expect(shift).toEqual({ a: -Math.log(2), b: -Math.log(0.5), c: -Math.log(1.25) });
    rows(m).forEach((r, i) => {
      const q = before[i].map((p, c) => p / w[c]);
      const z = q.reduce((s, v) => s + v, 0);
      r.forEach((v, c) => expect(v).toBeCloseTo(q[c] / z, 5));
    });
  });

  it('one sigmoid unit: the odds of the second class are divided by w1 / w0', () => {
    const m = tinyModel(1, 'sigmoid');
    const before = rows(m).map((r) => r[0]);
    applyPriorCorrection(m, ['neg', 'pos'], [0.75, 1.5]);
    rows(m).forEach((r, i) => {
      const p = before[i];
      expect(r[0]).toBeCloseTo(p / 1.5 / (p / 1.5 + (1 - p) / 0.75), 5);
    });
  });

  it('leaves the model alone when the weights are equal, and a class without training images unshifted', () => {
    const m = tinyModel(3, 'softmax');
    const before = rows(m);
    expect(applyPriorCorrection(m, ['a', 'b', 'c'], [1, 1, 1])).toBeNull();
    expect(rows(m)).toEqual(before);
    expect(applyPriorCorrection(m, ['a', 'b', 'c'], [2, 0, 1])).toEqual({ a: -Math.log(2), b: 0, c: 0 });
    rows(m).forEach((r) => r.forEach((v) => expect(Number.isFinite(v)).toBe(true)));
  });

  it('head-only retraining ends with the correction for its own class weights', async () => {
    const m = tinyModel(3, 'softmax');
    const bias = () => Array.from(m.getLayer('predictions').getWeights()[1].dataSync());
    const before = bias();
    // Learning rate 0: the fit leaves the weights alone, so only the correction moves the bias.
    const labels = [0, 0, 0, 0, 1, 1, 2, 2];
    await trainHead(
      m,
      new Float32Array(labels.length * 3).map((_, i) => Math.sin(i)),
      3,
      labels,
      3,
      { epochs: 1, batch: 4, lr: 0, seed: 1, onEpoch: async () => {} },
    );
    const w = [8 / 12, 8 / 6, 8 / 6];
    bias().forEach((b, c) => expect(b).toBeCloseTo(before[c] - Math.log(w[c]), 5));
  });

  it('taking a recorded correction out gives the model back (softmax and one sigmoid unit); a mismatched record is refused', () => {
    for (const [units, activation, classes, w] of [
      [3, 'softmax', ['a', 'b', 'c'], [2, 0.5, 1.25]],
      [1, 'sigmoid', ['neg', 'pos'], [0.6, 3]],
    ] as const) {
      const m = tinyModel(units, activation);
      const before = rows(m);
      const shift = applyPriorCorrection(m, [...classes], [...w])!;
      expect(maxDiff(rows(m), before)).toBeGreaterThan(1e-3);
      removePriorCorrection(m, [...classes], shift);
      expect(maxDiff(rows(m), before)).toBeLessThan(1e-6);
    }
    expect(() => removePriorCorrection(tinyModel(3, 'softmax'), ['a', 'b', 'c'], { a: 1, b: 2 })).toThrow(/does not match the classes a, b, c/);
  });

  it('head-only retraining starts from the bundle without its recorded correction and ends with its own, which it returns', async () => {
    const source = tinyModel(3, 'softmax');
    const original = Array.from(source.getLayer('predictions').getWeights()[1].dataSync());
    const recorded = { a: 0.4, b: -0.25, c: 0.1 };
    const bundle = { model: source, manifest: { spec: { classes: ['a', 'b', 'c'] }, training: { priorCorrection: recorded } } } as unknown as LoadedBundle;
    const head = headModel(bundle, 3, ['a', 'b', 'c'], 1);
    const bias = () => Array.from(head.getLayer('predictions').getWeights()[1].dataSync());
    bias().forEach((b, c) => expect(b).toBeCloseTo(original[c] - Object.values(recorded)[c], 5));
    const labels = [0, 0, 0, 0, 1, 1, 2, 2];
    const { priorCorrection } = await trainHead(
      head,
      new Float32Array(labels.length * 3).map((_, i) => Math.cos(i)),
      3,
      labels,
      3,
      { epochs: 1, batch: 4, lr: 0, seed: 1, onEpoch: async () => {} },
    );
    const w = [8 / 12, 8 / 6, 8 / 6];
    expect(Object.values(priorCorrection!)).toEqual(w.map((v) => -Math.log(v)));
    bias().forEach((b, c) => expect(b).toBeCloseTo(original[c] - Object.values(recorded)[c] - Math.log(w[c]), 5));
  });
});

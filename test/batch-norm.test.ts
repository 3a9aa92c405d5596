import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveBackend } from '../src/engine/tfjs/backend.js';
import { freezeBatchNorm, recalibrateBatchNorm } from '../src/engine/train/batch-norm.js';
import { rng } from '../src/core/random.js';

beforeAll(async () => {
  await resolveBackend('wasm');
});

/** input (2×2×3) → batch norm → a conv, so that the batch norm's output has a gradient to carry. */
function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [2, 2, 3] });
  const bn = tf.layers.batchNormalization({ name: 'bn', momentum: 0.99 }).apply(input) as tf.SymbolicTensor;
  const out = tf.layers.conv2d({ filters: 1, kernelSize: 2, kernelInitializer: 'ones', name: 'conv' }).apply(bn) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function batches(count: number, seed: number): Float32Array[] {
  const random = rng(seed);
  // Each batch has its own offset and spread, so a moving average with the wrong weights is visibly off.
  return Array.from({ length: count }, (_, b) => Float32Array.from({ length: 5 * 12 }, () => b * 2 + (b + 1) * (random() - 0.5)));
}

function channelStats(data: Float32Array): { mean: number[]; variance: number[] } {
  const mean = [0, 0, 0];
  const sq = [0, 0, 0];
  const n = data.length / 3;
  data.forEach((v, i) => {
    mean[i % 3] += v / n;
    sq[i % 3] += (v * v) / n;
  });
  return { mean, variance: sq.map((s, c) => s - mean[c] * mean[c]) };
}

describe('batch norm of a training run', () => {
  it('re-estimates the moving statistics as the mean of the batch statistics, and restores the momentum', async () => {
    const model = tinyModel();
    const data = batches(3, 1);
    const used = await recalibrateBatchNorm(
      model,
      data.map((d) => tf.tensor4d(d, [5, 2, 2, 3])),
    );
    expect(used).toBe(3);
    const stats = data.map(channelStats);
    const [, , movingMean, movingVariance] = model
      .getLayer('bn')
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    for (let c = 0; c < 3; c++) {
      expect(movingMean[c]).toBeCloseTo(stats.reduce((s, st) => s + st.mean[c], 0) / 3, 4);
      expect(movingVariance[c]).toBeCloseTo(stats.reduce((s, st) => s + st.variance[c], 0) / 3, 3);
    }
    expect((model.getLayer('bn') as unknown as { momentum: number }).momentum).toBe(0.99);
    model.dispose();
  });

  it('frozen: training mode normalises with the moving statistics, leaves them as they are, and scale and offset still learn', async () => {
    const model = tinyModel();
    await recalibrateBatchNorm(model, [tf.tensor4d(batches(1, 2)[0], [5, 2, 2, 3])]);
    const x = tf.tensor4d(batches(2, 3)[1], [5, 2, 2, 3]);
    const before = model
      .getLayer('bn')
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    const inference = Array.from((model.predict(x) as tf.Tensor).dataSync());
    const trainingBefore = Array.from((model.apply(x, { training: true }) as tf.Tensor).dataSync());
    // Not frozen yet: training mode uses this batch's statistics (so the check below can fail).
    expect(trainingBefore.some((v, i) => Math.abs(v - inference[i]) > 1e-3)).toBe(true);
    // That pass moved the moving averages a little: put them back.
    model.getLayer('bn').setWeights(before.map((v) => tf.tensor1d(v)));

    expect(freezeBatchNorm(model)).toBe(1);
    const training = Array.from((model.apply(x, { training: true }) as tf.Tensor).dataSync());
    training.forEach((v, i) => expect(v).toBeCloseTo(inference[i], 5));
    const after = model
      .getLayer('bn')
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    expect(after).toEqual(before);

    const gamma = model.getLayer('bn').trainableWeights[0].read() as tf.Variable;
    const { grads } = tf.variableGrads(() => tf.sum(model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, [gamma]);
    expect(Array.from(grads[gamma.name].dataSync()).some((v) => Math.abs(v) > 1e-6)).toBe(true);
    model.dispose();
  });
});

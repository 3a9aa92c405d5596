// The localisation penalty (issue #23): its grid follows the image's flips and turns, and the training
// graph on ONNX Runtime gives the same penalised loss and weight gradients as the tfjs trainer.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { rng } from '../src/core/random.js';
import { buildModel, defaultSpec } from '../src/engine/models/spec.js';
import { OrtTrainingStep } from '../src/engine/onnx/ort-training.js';
import { resolveBackend } from '../src/engine/tfjs/backend.js';
import { freezeBatchNorm } from '../src/engine/train/batch-norm.js';
import { outsideShare, penaltySide, writeOutsideGrid } from '../src/engine/train/mask-penalty.js';
import { microBatchGradients, trainingGraph, type MicroBatch } from '../src/engine/train/micro-batch.js';
import { makeBatch } from '../src/engine/train/run-data.js';
import type { CachedImages } from '../src/engine/train/image-cache.js';
import { trainOptionsFrom } from '../src/headless/train.js';
import { loadConfig } from '../src/config.js';

beforeAll(async () => {
  await resolveBackend('cpu');
});

describe('the outside-the-cells grid', () => {
  // An 8 × 8 mask whose cell fills the top-left 4 × 4 quarter; a 2 × 2 grid.
  const mask = Uint8Array.from({ length: 64 }, (_, p) => Number(p % 8 < 4 && p < 32));
  const grid = (t: number) => {
    const out = new Float32Array(4);
    writeOutsideGrid(mask, 8, 2, t, out, 0);
    return [...out];
  };
  it('is 0 where the cell covers a position and 1 where it does not, moved as the image is', () => {
    expect(grid(0)).toEqual([0, 1, 1, 1]);
    expect(grid(1)).toEqual([1, 0, 1, 1]); // horizontal flip: the cell is now top right
    expect(grid(2)).toEqual([1, 1, 0, 1]); // vertical flip: bottom left
    expect(grid(3)).toEqual([1, 1, 1, 0]);
  });
  it('counts a position the cell covers in part by its share', () => {
    const out = new Float32Array(1);
    writeOutsideGrid(mask, 8, 1, 0, out, 0);
    expect(out[0]).toBeCloseTo(0.75, 6);
  });
  it('is 14 × 14 at 224 px, the LayerCAM 14² map', () => expect(penaltySide(224)).toBe(14));

  it('is written by makeBatch with the transform the image got, and left 0 for an image without a mask', () => {
    // Image 0: a white cell in its top-left quarter on black; image 1: no mask.
    const pixels = new Uint8Array(2 * 64 * 3);
    mask.forEach((m, p) => pixels.fill(m * 255, p * 3, p * 3 + 3));
    const cache: CachedImages = { size: 8, pixels, stride: 64 * 3, files: ['a', 'b'] };
    const outside = { side: 2, grid: new Float32Array(8) };
    const draws = [0.99, 0.5]; // image 0: transform 7 (anti-transpose); image 1: transform 4
    const x = makeBatch(cache, [0, 1], { flips: true, rot90: true, colorJitter: 0 }, () => draws.shift() ?? 0, { masks: [mask, null], pool: [0] }, outside);
    // The anti-transpose takes the top-left quarter to the bottom right, in the image and in its grid.
    expect([x[(7 * 8 + 7) * 3], x[0]]).toEqual([1, 0]);
    expect([...outside.grid]).toEqual([1, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('needs the segmented twins', () => {
    const config = loadConfig({ overrides: {} });
    expect(() => trainOptionsFrom({ data: 'd', out: 'o', 'mask-penalty': '5' }, config, [])).toThrow(/--mask-penalty needs --cell-masks DIR/);
    expect(trainOptionsFrom({ data: 'd', out: 'o', 'mask-penalty': '5', 'cell-masks': 'm' }, config, []).maskPenalty).toBe(5);
    expect(trainOptionsFrom({ data: 'd', out: 'o' }, config, []).maskPenalty).toBe(0);
  });
});

describe('the share of structure outside the cells', () => {
  it('is 0 for surroundings of any constant activity, and the outside part of Σ|a − m| otherwise', () => {
    // Two images of 1 × 3 positions, one channel; positions 0 and 1 are outside the cells.
    const features = tf.tensor4d([2, 2, 5, 1, 3, 5], [2, 1, 3, 1]);
    const outside = tf.tensor3d([1, 1, 0, 1, 1, 0], [2, 1, 3]);
    // Image 0: m = 2, structure 0, 0, 3 → 0. Image 1: m = 2, structure 1, 1, 3 → 2 / 5.
    expect([...(outsideShare(features, outside).dataSync() as Float32Array)].map((v) => +v.toFixed(4))).toEqual([0, 0.4]);
  });
});

describe('ONNX Runtime training graph with the localisation penalty', () => {
  it('gives the tfjs trainer’s penalised loss and weight gradients', async () => {
    const spec = defaultSpec('lite0', ['Benign', 'Early', 'Pre', 'Pro'], { inputSize: 64 });
    const model = buildModel(spec, 3);
    for (const layer of model.layers) if (layer.getClassName() === 'Dropout') (layer as unknown as { rate: number }).rate = 0;
    freezeBatchNorm(model);
    const random = rng(5);
    const side = penaltySide(64);
    const n = 3;
    // Image 2 has no mask (outside 0): it adds nothing to the penalty.
    const outside = Float32Array.from({ length: n * side * side }, (_, i) => (i < 2 * side * side ? Number(random() < 0.6) : 0));
    const mb: MicroBatch = { x: Float32Array.from({ length: n * 64 * 64 * 3 }, () => random()), size: 64, labels: [0, 2, 3], weights: [1.5, 0.8, 1], share: 0.5, cells: { outside, side, weight: 2 } };
    const graph = trainingGraph(model, spec.head, 4);
    const weights = graph.trainable.map((v) => v.dataSync() as Float32Array);
    const step = await OrtTrainingStep.create(model, model.trainableWeights, spec.head, 4, { threads: 1, provider: 'cpu', dropout: false, batchNorm: 'frozen', maskPenaltySide: side });
    const remote = await step.run(weights, mb);
    const unpenalised = await step.run(weights, { ...mb, cells: { ...mb.cells!, weight: 0 } });
    await step.dispose();
    const local = await microBatchGradients(graph, mb);
    // The penalty is in the loss (a share in [0, 1] per image, times λ · share of the batch / n).
    const penalty = remote.loss - unpenalised.loss;
    expect(penalty).toBeGreaterThan(0.01);
    expect(penalty).toBeLessThan((2 * 0.5 * 2) / n);
    expect(Math.abs(remote.loss - local.loss) / local.loss).toBeLessThan(1e-4);
    let worst = 0;
    let changed = 0;
    local.grads.forEach((g, i) => {
      const a = g!.dataSync() as Float32Array;
      const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-9);
      a.forEach((v, k) => {
        worst = Math.max(worst, Math.abs(v - remote.grads[i][k]) / scale);
        changed = Math.max(changed, Math.abs(v - unpenalised.grads[i][k]) / scale);
      });
    });
    console.log(`mask penalty ${penalty.toFixed(4)}: worst relative gradient difference ${worst.toExponential(2)}, the penalty moves gradients by up to ${changed.toFixed(3)}`);
    expect(worst).toBeLessThan(1e-3);
    expect(changed).toBeGreaterThan(1e-3); // the penalty's gradient reaches the weights
    tf.dispose(local.grads.filter((g): g is tf.Tensor => !!g));
    model.dispose();
  }, 60_000);
});

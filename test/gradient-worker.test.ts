import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, defaultSpec } from '../src/engine/models/spec.js';
import { resolveBackend } from '../src/engine/tfjs/backend.js';
import { freezeBatchNorm, recalibrateBatchNorm } from '../src/engine/train/batch-norm.js';
import { readWeights } from '../src/engine/train/checkpoint.js';
import { rng } from '../src/core/random.js';
import { GradientWorker } from '../src/engine/train/gradient-workers.js';
import { microBatchGradients, trainingGraph, type MicroBatch } from '../src/engine/train/micro-batch.js';

let worker: GradientWorker | null = null;
let frozenWorker: GradientWorker | null = null;
beforeAll(async () => {
  await resolveBackend('wasm');
});
afterAll(async () => {
  await worker?.close();
  await frozenWorker?.close();
});

describe('gradient worker (data-parallel training)', () => {
  it('returns the gradients this thread computes for the same weights, micro-batch and random seed', async () => {
    // The paper head (hidden dense layer with L1 activity) and stochastic depth: every term of the loss and the dropout masks.
    const spec = defaultSpec('b0', ['hem', 'all'], { inputSize: 32 });
    const model = buildModel(spec, 5);
    const graph = trainingGraph(model, spec.head, 2);
    const random = rng(1);
    const batch: MicroBatch = { x: Float32Array.from({ length: 3 * 32 * 32 * 3 }, () => random()), size: 32, labels: [0, 1, 1], weights: [1.5, 0.75, 0.75], share: 0.5 };
    const system = Math.random;
    Math.random = rng(99);
    const local = await microBatchGradients(graph, batch);
    Math.random = system;

    // The worker's model starts from another seed: only the weights sent make the answers agree.
    worker = await GradientWorker.start('wasm', spec, 6);
    const weights = graph.trainable.map((v) => (v.dataSync() as Float32Array).slice());
    const remote = await worker.compute(batch, 99, weights);
    expect(remote.loss).toBeCloseTo(local.loss, 5);
    expect(remote.hits).toBe(local.hits);
    expect(remote.grads.length).toBe(local.grads.length);
    let worst = 0;
    local.grads.forEach((g, i) => {
      const a = g!.dataSync();
      const b = remote.grads[i]!;
      const scale = Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
      for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]) / scale);
    });
    expect(worst).toBeLessThan(1e-4);
    // Other weights give another answer: the comparison above can fail.
    const unsent = await worker.compute(
      batch,
      99,
      weights.map((w) => w.map((v) => v * 0.9)),
    );
    expect(Math.abs(unsent.loss - local.loss)).toBeGreaterThan(1e-6);
    tf.dispose(local.grads.filter((g): g is tf.Tensor => !!g));
    model.dispose();
  });

  it('with frozen batch norm, normalises with the statistics it was started with', async () => {
    const spec = defaultSpec('b0', ['hem', 'all'], { inputSize: 32 });
    const model = buildModel(spec, 5);
    const random = rng(2);
    const image = (n: number) => Float32Array.from({ length: n * 32 * 32 * 3 }, () => random());
    // Statistics far from the initial zeros and ones, so that a worker ignoring them gives another answer.
    await recalibrateBatchNorm(model, [tf.tensor4d(image(4), [4, 32, 32, 3]), tf.tensor4d(image(4), [4, 32, 32, 3])]);
    freezeBatchNorm(model);
    const graph = trainingGraph(model, spec.head, 2);
    const batch: MicroBatch = { x: image(2), size: 32, labels: [1, 0], weights: [1, 1], share: 1 };
    const system = Math.random;
    Math.random = rng(7);
    const local = await microBatchGradients(graph, batch);
    Math.random = system;

    frozenWorker = await GradientWorker.start('wasm', spec, 6, readWeights(model));
    const remote = await frozenWorker.compute(batch, 7, null);
    expect(remote.loss).toBeCloseTo(local.loss, 5);
    const a = local.grads[0]!.dataSync();
    const scale = Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
    remote.grads[0]!.forEach((v, k) => expect(Math.abs(v - a[k]) / scale).toBeLessThan(1e-4));
    // A worker on batch statistics, given the same trainable weights, does not agree.
    const unfrozen = await worker!.compute(
      batch,
      7,
      graph.trainable.map((v) => (v.dataSync() as Float32Array).slice()),
    );
    expect(Math.abs(unfrozen.loss - local.loss)).toBeGreaterThan(1e-4);
    tf.dispose(local.grads.filter((g): g is tf.Tensor => !!g));
    model.dispose();
  });
});

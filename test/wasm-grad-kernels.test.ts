import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveBackend } from '../src/engine/tfjs/backend.js';
import { buildModel, defaultSpec } from '../src/engine/models/spec.js';
import { relativeError } from './helpers.js';

/** Deterministic pseudo-random values, so both backends see the same inputs. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

async function onBackend(name: 'cpu' | 'wasm', fn: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(name);
  const t = fn();
  const data = (await t.data()) as Float32Array;
  t.dispose();
  return data;
}

type Shape4 = [number, number, number, number];

/**
 * Gradients of sum(op(x, filter) · dy) with respect to x and to the filter, on wasm and on cpu, from the
 * same pseudo-random inputs (seeds from `seed`): they must agree to a relative error below 1e-4.
 */
async function expectGradsMatchCpu(xShape: Shape4, wShape: Shape4, seed: number, op: (x: tf.Tensor4D, f: tf.Tensor4D) => tf.Tensor4D): Promise<void> {
  const grads = (which: 0 | 1) => () =>
    tf.tidy(() => {
      const x = tf.tensor4d(values(tf.util.sizeFromShape(xShape), seed), xShape);
      const filter = tf.tensor4d(values(tf.util.sizeFromShape(wShape), seed + 1), wShape);
      const y = op(x, filter);
      const dy = tf.tensor(values(y.size, seed + 2), y.shape);
      const [gx, gf] = tf.grads((a: tf.Tensor, f: tf.Tensor) =>
        op(a as tf.Tensor4D, f as tf.Tensor4D)
          .mul(dy)
          .sum(),
      )([x, filter]);
      return which === 0 ? gx : gf;
    });
  for (const which of [0, 1] as const) {
    const expected = await onBackend('cpu', grads(which));
    const actual = await onBackend('wasm', grads(which));
    expect(actual.length).toBe(expected.length);
    expect(relativeError(actual, expected)).toBeLessThan(1e-4);
  }
}

type Pad = 'same' | 'valid';
interface Case {
  x: [number, number, number, number];
  k: number;
  stride: number;
  pad: Pad;
  cout?: number;
  mul?: number;
  dilation?: number;
}

const conv2dCases: Case[] = [
  { x: [2, 7, 7, 3], k: 3, stride: 1, pad: 'same', cout: 4 },
  { x: [2, 8, 9, 3], k: 3, stride: 2, pad: 'same', cout: 5 },
  { x: [1, 9, 9, 4], k: 3, stride: 2, pad: 'valid', cout: 2 },
  { x: [3, 5, 5, 6], k: 1, stride: 1, pad: 'same', cout: 7 },
  { x: [1, 11, 10, 2], k: 5, stride: 3, pad: 'same', cout: 3 },
];

const depthwiseCases: Case[] = [
  { x: [2, 7, 7, 3], k: 3, stride: 1, pad: 'same', mul: 1 },
  { x: [2, 8, 8, 4], k: 3, stride: 2, pad: 'same', mul: 1 },
  { x: [1, 9, 9, 3], k: 5, stride: 2, pad: 'valid', mul: 1 },
  { x: [2, 10, 9, 2], k: 5, stride: 2, pad: 'same', mul: 2 },
];

describe('wasm gradient kernels match the cpu backend', () => {
  beforeAll(async () => {
    await resolveBackend('wasm');
  });

  it.each(conv2dCases)('Conv2DBackpropFilter and Conv2DBackpropInput %o', async (c) => {
    const w = [c.k, c.k, c.x[3], c.cout!] as [number, number, number, number];
    await expectGradsMatchCpu(c.x, w, 1, (a, f) => tf.conv2d(a, f, c.stride, c.pad));
  });

  it.each(depthwiseCases)('DepthwiseConv2dNative backprop (input and filter) %o', async (c) => {
    const w = [c.k, c.k, c.x[3], c.mul!] as [number, number, number, number];
    await expectGradsMatchCpu(c.x, w, 4, (a, f) => tf.depthwiseConv2d(a, f, c.stride, c.pad, 'NHWC', c.dilation ?? 1));
  });

  it('frees every intermediate tensor', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(values(2 * 8 * 8 * 3, 7), [2, 8, 8, 3]);
    const f = tf.tensor4d(values(3 * 3 * 3 * 1, 8), [3, 3, 3, 1]);
    const grad = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').sum());
    tf.dispose(grad([x, f]));
    const before = tf.memory().numBytes;
    for (let i = 0; i < 5; i++) tf.dispose(grad([x, f]));
    expect(tf.memory().numBytes).toBe(before);
    tf.dispose([x, f]);
  });

  it('gives an input gradient through a whole EfficientNet-B0 on wasm', async () => {
    await tf.setBackend('wasm');
    const model = buildModel(defaultSpec('b0', ['a', 'b', 'c'], { inputSize: 64 }), 1);
    const x = tf.tensor4d(
      values(64 * 64 * 3, 9).map((v) => v + 0.5),
      [1, 64, 64, 3],
    );
    const g = tf.grad((input: tf.Tensor) => (model.predict(input) as tf.Tensor).mul(tf.tensor2d([[0, 1, 0]])).sum())(x);
    const data = await g.data();
    expect(data.every(Number.isFinite)).toBe(true);
    expect(data.some((v) => v !== 0)).toBe(true);
    tf.dispose([g, x]);
    model.dispose();
  });
});

describe('batch-norm gradient', () => {
  it("matches tfjs-core's own gradient for x, mean, variance, scale and offset", async () => {
    const { fusedBatchNormGrad } = await import('../src/engine/tfjs/batchnorm-grad.js');
    const { fusedBatchNormGradConfig } = await import('@tensorflow/tfjs-core/dist/gradients/FusedBatchNorm_grad.js');
    await tf.setBackend('cpu');
    const shape: [number, number, number, number] = [2, 3, 4, 5];
    const x = tf.tensor4d(values(120, 11), shape);
    const dy = tf.tensor4d(values(120, 12), shape);
    const mean = tf.tensor1d(values(5, 13));
    const variance = tf.tensor1d(values(5, 14).map((v) => v + 1));
    const scale = tf.tensor1d(values(5, 15));
    const offset = tf.tensor1d(values(5, 16));
    const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => tf.batchNorm(a, m, v, o, s, 1e-3).mul(dy).sum();
    // tfjs-core's gradient first (resolveBackend registered ours already), then ours again.
    tf.registerGradient(fusedBatchNormGradConfig);
    const expected = tf
      .grads(f)([x, mean, variance, scale, offset])
      .map((t) => t.dataSync());
    tf.registerGradient(fusedBatchNormGrad);
    const actual = tf
      .grads(f)([x, mean, variance, scale, offset])
      .map((t) => t.dataSync());
    for (let i = 0; i < 5; i++) expect(relativeError(actual[i] as Float32Array, expected[i] as Float32Array)).toBeLessThan(1e-5);
  });
});

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BLOCKS_ARGS, roundFilters, roundRepeats, VARIANTS } from '../src/engine/models/efficientnet.js';
import { buildBackbone, buildModel, defaultSpec } from '../src/engine/models/spec.js';
import { forwardFlops } from '../src/engine/models/flops.js';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

describe('EfficientNet from the block table', () => {
  it('rounds filters and repeats as Keras does', () => {
    expect(roundFilters(32, 2.0)).toBe(64);
    expect(roundFilters(1280, 2.0)).toBe(2560);
    expect(roundFilters(32, 1.1)).toBe(32); // 35.2 → 32 (not 10% below)
    expect(roundFilters(24, 1.4)).toBe(32); // 33.6 → 32
    expect(roundRepeats(3, 3.1)).toBe(10);
    const b7Blocks = BLOCKS_ARGS.reduce((n, a) => n + roundRepeats(a.repeats, VARIANTS.b7.depth), 0);
    expect(b7Blocks).toBe(55);
  });

  it("B0 without top has Keras's parameter count, with and without the normalisation layer", () => {
    const withNorm = buildBackbone('b0');
    expect(withNorm.countParams()).toBe(4_049_571);
    const bare = buildBackbone('b0', 224, 'none');
    expect(bare.countParams()).toBe(4_049_564);
    expect(withNorm.outputs[0].shape).toEqual([null, 7, 7, 1280]);
    tf.dispose([withNorm, bare].flatMap((m) => m.weights.map((w) => w.read())));
  });

  it("keeps Keras's layer names", () => {
    const m = buildBackbone('b0', 224);
    const names = new Set(m.layers.map((l) => l.name));
    for (const n of ['stem_conv', 'stem_bn', 'block1a_dwconv', 'block1a_se_excite', 'block2a_expand_conv', 'block2b_add', 'block6d_project_bn', 'top_conv', 'top_activation']) {
      expect(names.has(n), n).toBe(true);
    }
    expect(m.getLayer('block2b_drop')).toBeTruthy();
    // tfjs makes variable names unique per process; originalName is what bundles store and Keras matches.
    expect(m.weights.map((w) => w.originalName)).toContain('block1a_dwconv/depthwise_kernel');
  });

  it('counts B0 FLOPs close to the published 0.39 G multiply-adds', () => {
    const m = buildBackbone('b0', 224);
    const gmacs = forwardFlops(m) / 2 / 1e9;
    expect(gmacs).toBeGreaterThan(0.37);
    expect(gmacs).toBeLessThan(0.41);
  });

  it('puts the paper head on top: 4 classes softmax, 2 classes one sigmoid unit', async () => {
    const four = buildModel(defaultSpec('b0', ['a', 'b', 'c', 'd'], { inputSize: 64 }), 1);
    expect(four.outputs[0].shape).toEqual([null, 4]);
    const names = four.layers.map((l) => l.getClassName());
    expect(names).toContain('GlobalMaxPooling2D');
    const p = four.predict(tf.zeros([2, 64, 64, 3])) as tf.Tensor;
    const rows = (await p.array()) as number[][];
    for (const r of rows) expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const two = buildModel(defaultSpec('b0', ['hem', 'all'], { inputSize: 64, head: { pooling: 'avg', denseUnits: 0, batchNorm: false, dropout: 0 } }), 1);
    expect(two.outputs[0].shape).toEqual([null, 1]);
    expect(two.layers.map((l) => l.getClassName())).toContain('GlobalAveragePooling2D');
  });

  it('B7 without top has 64,097,687 parameters (64,097,680 without normalisation)', () => {
    const b7 = buildBackbone('b7');
    expect(b7.countParams()).toBe(64_097_687);
    expect(b7.countParams() - 7).toBe(64_097_680);
    expect(b7.outputs[0].shape).toEqual([null, 19, 19, 2560]);
    b7.dispose();
  });
});

import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBackend } from '../src/engine/tfjs/backend.js';
import { buildModel, defaultSpec, type ModelSpec } from '../src/engine/models/spec.js';
import { setBatchNormMomentum } from '../src/engine/train/batch-norm.js';
import { exportToOnnx, ExportError } from '../src/engine/onnx/export.js';
import { OrtModel } from '../src/engine/onnx/ort-runtime.js';
import { decodeModel } from '../src/engine/onnx/proto.js';
import { graphForBundle } from '../src/engine/onnx/bundle-graph.js';
import { loadBundle } from '../src/engine/bundle.js';
import { EngineClient } from '../src/engine/client.js';
import { makeBundle, relativeError, tempDir } from './helpers.js';

const relError = relativeError;

function pattern(n: number, size: number): Float32Array {
  return new Float32Array(n * size * size * 3).map((_, i) => (Math.sin(i * 0.013) + 1) / 2);
}

/**
 * A model with random weights whose batch-norm statistics are those of real activations (a fresh
 * model has mean 0 and variance 1 everywhere, which would make folding trivially right), and with
 * random scales and shifts.
 */
function calibratedModel(spec: ModelSpec): tf.LayersModel {
  const model = buildModel(spec, 3);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(layer.getWeights().map((w, i) => (/gamma|beta/.test(layer.weights[i].name) ? tf.randomUniform(w.shape, 0.5, 1.5, 'float32', i + 1) : w)));
  }
  setBatchNormMomentum(model, 0);
  tf.tidy(() => {
    model.apply(tf.randomUniform([4, spec.inputSize, spec.inputSize, 3], 0, 1, 'float32', 5), { training: true });
  });
  return model;
}

async function parity(spec: ModelSpec): Promise<{ probs: number; features: number | null; folded: number }> {
  const model = calibratedModel(spec);
  try {
    const exported = exportToOnnx(model);
    const ort = await OrtModel.create(exported.bytes, spec.inputSize, { threads: 1, provider: 'cpu' });
    const x = pattern(2, spec.inputSize);
    const got = await ort.run(x, 2, true);
    await ort.dispose();
    const hasFeatures = model.layers.some((l) => l.name === 'top_activation');
    const probe = tf.model({ inputs: model.inputs, outputs: hasFeatures ? [model.outputs[0], model.getLayer('top_activation').output as tf.SymbolicTensor] : model.outputs });
    const outs = tf.tidy(() => {
      const o = probe.predict(tf.tensor4d(x, [2, spec.inputSize, spec.inputSize, 3]));
      return (Array.isArray(o) ? o : [o]).map((t) => t.dataSync() as Float32Array);
    });
    return { probs: relError(got.probabilities, outs[0]), features: hasFeatures ? relError(got.features!.data, outs[1]) : null, folded: exported.foldedBatchNorms };
  } finally {
    model.dispose();
  }
}

beforeAll(async () => {
  await resolveBackend('wasm');
});

describe('ONNX export', () => {
  it('EfficientNet-B0 at 224 px: probabilities and top_activation agree with TensorFlow.js within 1e-4', async () => {
    const r = await parity(defaultSpec('b0', ['Benign', 'Early', 'Pre', 'Pro'], { inputSize: 224 }));
    expect(r.probs).toBeLessThan(1e-4);
    expect(r.features).toBeLessThan(1e-4);
    expect(r.folded).toBe(49); // every backbone batch norm follows a linear convolution
  });

  it('a small custom variant (B1 at 96 px, GAP + linear head, one sigmoid unit) agrees too', async () => {
    const r = await parity(defaultSpec('b1', ['hem', 'all'], { inputSize: 96, head: { pooling: 'avg', batchNorm: false, denseUnits: 0, dropout: 0 } }));
    expect(r.probs).toBeLessThan(1e-4);
    expect(r.features).toBeLessThan(1e-4);
  });

  it.each([
    ['lite0', 'efficientnet'],
    ['mobilenetv2', 'mobilenetv2'],
  ])('the mobile family %s (folded batch norm, ReLU6) exports and agrees', async (variant, architecture) => {
    const r = await parity(defaultSpec(variant as 'lite0', ['a', 'b', 'c'], { architecture: architecture as ModelSpec['architecture'], inputSize: 96, head: { pooling: 'avg', denseUnits: 0 } }));
    expect(r.probs).toBeLessThan(1e-4);
    expect(r.features).toBeLessThan(1e-4);
  });

  it.each([
    ['resnet50', 64],
    ['alexnet', 96],
    ['densenet121', 64],
  ])('the %s baseline exports and agrees', async (architecture, size) => {
    const r = await parity(defaultSpec('b0', ['a', 'b', 'c'], { architecture: architecture as ModelSpec['architecture'], variant: architecture, inputSize: size }));
    expect(r.probs).toBeLessThan(1e-4);
  });

  it('writes a file ONNX Runtime accepts, with the outputs named and the exporter recorded', async () => {
    const model = buildModel(defaultSpec('b0', ['a', 'b'], { inputSize: 32 }), 1);
    const { bytes, outputs } = exportToOnnx(model, { metadata: { bundle: 'x@1' } });
    model.dispose();
    const decoded = decodeModel(bytes);
    expect(outputs).toEqual(['probabilities', 'features']);
    expect(decoded.graph.output.map((o) => o.name)).toEqual(['probabilities', 'features']);
    expect(decoded.graph.input.map((o) => o.name)).toEqual(['input']);
    expect(decoded.metadata_props).toContainEqual({ key: 'bundle', value: 'x@1' });
    expect(decoded.graph.node.some((n) => n.op_type === 'BatchNormalization')).toBe(false);
  });

  it('a session released with runs in flight finishes them first, then refuses new ones', async () => {
    const model = buildModel(defaultSpec('b0', ['a', 'b'], { inputSize: 64 }), 1);
    const { bytes } = exportToOnnx(model);
    model.dispose();
    const ort = await OrtModel.create(bytes, 64, { threads: 1, provider: 'cpu' });
    const batch = new Float32Array(8 * 64 * 64 * 3).fill(0.5);
    const runs = [ort.run(batch, 8), ort.run(batch, 8, true)];
    const released = ort.dispose();
    const results = await Promise.all(runs);
    await released;
    expect(results.map((r) => r.probabilities.length)).toEqual([8, 8]); // one sigmoid unit per image (paper head, two classes)
    await expect(ort.run(batch, 8)).rejects.toThrow(/released/);
  });

  it('names the layer it cannot convert', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'elu', name: 'odd_conv' }).apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(pooled) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    expect(() => exportToOnnx(model)).toThrow(ExportError);
    expect(() => exportToOnnx(model)).toThrow(/odd_conv.*elu/);
    model.dispose();
  });
});

describe('the input-gradient graph', () => {
  async function gradientParity(spec: ModelSpec, target: number): Promise<number> {
    const model = calibratedModel(spec);
    try {
      const { bytes, outputs } = exportToOnnx(model, { gradient: true });
      // Then the finer stage maps and their gradients (LayerCAM's fast path), at strides 8 and 16.
      const [s8, s16] = [8, 16].map((stride) => Math.round(spec.inputSize / stride));
      expect(outputs).toEqual(['probabilities', 'input_grad', 'logits', `stage_${s8}`, `stage_${s8}_grad`, `stage_${s16}`, `stage_${s16}_grad`]);
      const ort = await OrtModel.create(bytes, spec.inputSize, { threads: 1, provider: 'cpu' });
      const n = 2;
      const units = model.outputs[0].shape[1] as number;
      const seed = new Float32Array(n * units);
      for (let i = 0; i < n; i++) seed[i * units + (units === 1 ? 0 : target)] = units === 1 ? (target === 1 ? 1 : -1) : 1;
      const x = pattern(n, spec.inputSize);
      const { inputGrad } = await ort.runGradient(x, n, seed);
      await ort.dispose();
      const { splitAtFeatures } = await import('../src/engine/models/feature-split.js');
      const split = splitAtFeatures(model);
      const expected = tf.tidy(
        () =>
          tf
            .grad((t: tf.Tensor) => split.imageScores(t).slice([0, target], [-1, 1]).sum())(tf.tensor4d(x, [n, spec.inputSize, spec.inputSize, 3]))
            .dataSync() as Float32Array,
      );
      return relError(inputGrad, expected);
    } finally {
      model.dispose();
    }
  }

  it('EfficientNet-B0 (GAP + linear head): ∂logit/∂input agrees with TensorFlow.js', async () => {
    expect(await gradientParity(defaultSpec('b0', ['a', 'b', 'c', 'd'], { inputSize: 160, head: { pooling: 'avg', batchNorm: false, denseUnits: 0, dropout: 0 } }), 2)).toBeLessThan(1e-3);
  });

  it('EfficientNet-Lite0 and MobileNetV2 (ReLU6 between 0 and 6) agree too', async () => {
    expect(await gradientParity(defaultSpec('lite0', ['a', 'b', 'c'], { inputSize: 96, head: { pooling: 'avg', batchNorm: false, denseUnits: 0, dropout: 0 } }), 1)).toBeLessThan(1e-3);
    expect(await gradientParity(defaultSpec('mobilenetv2', ['a', 'b'], { architecture: 'mobilenetv2', inputSize: 96 }), 0)).toBeLessThan(1e-3);
  });

  it('the paper head (max pooling, batch norm, dense, one sigmoid unit) agrees too', async () => {
    expect(await gradientParity(defaultSpec('b0', ['hem', 'all'], { inputSize: 96 }), 0)).toBeLessThan(1e-3);
  });

  it('a network without a gradient rule is refused, and the engine falls back to TensorFlow.js', () => {
    // Flatten has no gradient rule (every architecture here pools instead; AlexNet's max pools now have one).
    const input = tf.input({ shape: [8, 8, 3] });
    const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(input) as tf.SymbolicTensor;
    const output = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(tf.layers.flatten().apply(conv)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    expect(() => exportToOnnx(model, { gradient: true })).toThrow(/no gradient/);
    model.dispose();
  });
});

describe('a bundle runs only the graph of its verified weights', () => {
  it('ignores a model.onnx planted beside the weights, even with a matching sidecar', async () => {
    const dir = await tempDir();
    await makeBundle(dir, { size: 32 });
    const bundle = await loadBundle(dir);
    // The attack: the same model with the output bias [30, −30, −30, −30], saved as the cached graph with a
    // sidecar whose sha256 fits (what the stamp-checked cache accepted).
    const forged = buildModel(bundle.manifest.spec, 7);
    forged.setWeights(bundle.model.getWeights());
    const head = forged.layers.at(-1)!;
    head.setWeights([head.getWeights()[0], tf.tensor1d([30, -30, -30, -30])]);
    const planted = exportToOnnx(forged).bytes;
    forged.dispose();
    bundle.model.dispose();
    await fs.writeFile(path.join(dir, 'model.onnx'), planted);
    const sha256 = (text: string | Uint8Array) => createHash('sha256').update(text).digest('hex');
    // The stamp as the old cache wrote it: the manifest's files and the exporter version (1), and the graph's sha256.
    const files = Object.entries(bundle.manifest.files).sort(([x], [y]) => x.localeCompare(y));
    await fs.writeFile(path.join(dir, 'model.onnx.json'), JSON.stringify({ key: sha256(JSON.stringify({ files, exporter: 1 })), sha256: sha256(planted) }));
    const engine = new EngineClient();
    try {
      await engine.call('init', { backend: 'wasm', threads: 1, runtime: 'onnx' });
      expect((await engine.call('load', { modelDir: dir })).runtime).toBe('onnxruntime-cpu');
      const probs = (await engine.call('classify', { inputs: [pattern(1, 32), pattern(1, 32).map((v) => 1 - v)], batch: 2 })).probabilities;
      // An untrained model is near-uniform; the planted graph would say Benign 1.000.
      for (const p of probs) expect(Math.max(...p)).toBeLessThan(0.9);
    } finally {
      await engine.close();
    }
    // What ran is the export of the verified weights, byte for byte, not the file beside them.
    const again = await loadBundle(dir);
    expect(Buffer.from(graphForBundle(again).bytes).equals(Buffer.from(planted))).toBe(false);
    again.model.dispose();
  });
});

describe('the engine on ONNX Runtime', () => {
  let dir: string;
  const engines: EngineClient[] = [];
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
  });

  it('classifies with ONNX Runtime and gives what TensorFlow.js gives', async () => {
    dir = await tempDir();
    await makeBundle(dir, { size: 64 });
    const onnx = new EngineClient();
    const tfjs = new EngineClient();
    engines.push(onnx, tfjs);
    await onnx.call('init', { backend: 'wasm', threads: 1, runtime: 'onnx' });
    await tfjs.call('init', { backend: 'wasm', threads: 1, runtime: 'tfjs' });
    expect((await onnx.call('load', { modelDir: dir })).runtime).toBe('onnxruntime-cpu');
    expect((await tfjs.call('load', { modelDir: dir })).runtime).toBe('tfjs-wasm');
    const inputs = [pattern(1, 64), pattern(1, 64).map((v) => 1 - v)];
    const a = await onnx.call('classify', { inputs, batch: 2 });
    const b = await tfjs.call('classify', { inputs, batch: 2 });
    for (let i = 0; i < 2; i++) expect(relError(a.probabilities[i], b.probabilities[i])).toBeLessThan(1e-4);
    // Grad-CAM takes the feature map from ONNX Runtime and the head's gradient from tfjs: same map.
    const ea = await onnx.call('explain', { image: inputs[0], methods: ['gradcam', 'cam'] });
    const eb = await tfjs.call('explain', { image: inputs[0], methods: ['gradcam', 'cam'] });
    for (let m = 0; m < 2; m++) expect(relError(ea.heatmaps[m].values, eb.heatmaps[m].values)).toBeLessThan(1e-3);
  });

  it('test-time augmentation: the mean of the 8 symmetries of the square', async () => {
    const [onnx] = engines;
    const { dihedral } = await import('../src/engine/train/augment.js');
    const image = pattern(1, 64).map((v, i) => (i % 7 === 0 ? 1 - v : v));
    const views = Array.from({ length: 8 }, (_, t) => {
      const v = new Float32Array(image.length);
      dihedral(image, v, 0, 64, t);
      return v;
    });
    const each = await onnx.call('classify', { inputs: views, batch: 8 });
    const mean = each.probabilities[0].map((_, c) => each.probabilities.reduce((a, p) => a + p[c], 0) / 8);
    const tta = await onnx.call('classify', { inputs: [image, image], batch: 2, tta: true });
    expect(relError(tta.probabilities[0], mean)).toBeLessThan(1e-5);
    expect(relError(tta.probabilities[1], mean)).toBeLessThan(1e-5);
  });

  it('Integrated Gradients on the gradient graph gives the TensorFlow.js map and a small completeness gap', async () => {
    const [onnx, tfjs] = engines;
    const image = pattern(1, 64);
    const options = { ig: { steps: 64 } };
    const a = await onnx.call('explain', { image, methods: ['ig'], target: 1, options });
    const b = await tfjs.call('explain', { image, methods: ['ig'], target: 1, options });
    expect(relError(a.heatmaps[0].values, b.heatmaps[0].values)).toBeLessThan(1e-2);
    expect(a.heatmaps[0].diagnostics.completenessGap).toBeLessThan(0.05);
    expect(a.heatmaps[0].diagnostics.scoreDifference).toBeCloseTo(b.heatmaps[0].diagnostics.scoreDifference, 3);
  });
});

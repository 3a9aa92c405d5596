// TFLite ImageNet weights onto our models: the reader, the mapping, and the models they give.
// Reads ../shared/weights (CI has it beside the clone); those tests skip, saying so, where it is absent.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBackbone, buildModel, defaultSpec } from '../src/engine/models/spec.js';
import { readTflite, TfliteImportError } from '../src/engine/tflite/read.js';
import { importTfliteWeights } from '../src/engine/tflite/import.js';
import { exportToOnnx } from '../src/engine/onnx/export.js';
import { OrtModel } from '../src/engine/onnx/ort-runtime.js';
import { resolveBackend } from '../src/engine/tfjs/backend.js';
import { decodeRgb, readImageFile, toModelInput } from '../src/ingest/image.js';
import { runImportWeights, uniqueLabels } from '../src/headless/import-weights.js';
import { loadConfig } from '../src/config.js';
import { tempDir } from './helpers.js';
import { runTfliteReference } from './support/tflite-reference.js';
import { relativeError } from './helpers.js';
import { argmax } from '../src/core/probabilities.js';

const WEIGHTS = path.resolve(import.meta.dirname, '..', '..', 'shared', 'weights');
const LITE0 = path.join(WEIGHTS, 'efficientnet_lite0_imagenet_backbone_int8.tflite');
const MOBILENET = path.join(WEIGHTS, 'mobilenet_v2_1.0_224_quant.tflite');
const haveWeights = fs.existsSync(LITE0) && fs.existsSync(MOBILENET);
if (!haveWeights) console.warn(`skipping the TFLite weight tests: ${WEIGHTS} is absent (CI has ../shared beside the clone)`);

beforeAll(async () => {
  await resolveBackend('wasm');
});

async function photo(name: string): Promise<Float32Array> {
  const file = await readImageFile(path.join(WEIGHTS, 'photos', `${name}.bmp`), { extensions: ['bmp'], maxPixels: 1e7, maxBytes: 1e8 });
  return toModelInput(await decodeRgb(file, { maxPixels: 1e7 }), 224, 'stretch');
}

describe('model tables: the mobile families', () => {
  it('gives the parameter counts of the folded-batch-norm backbones', () => {
    // Lite0: the TFLite file's 3,350,000 weight and bias values (checked against the file below).
    // MobileNetV2: Keras's 2,223,872 trainable parameters less one per batch-norm channel (17,056), as folding leaves a bias for γ and β.
    const expected = { lite0: 3_350_000, lite1: 4_108_848, lite2: 4_782_024, lite3: 6_877_760, lite4: 11_669_384, mobilenetv2: 2_206_816 } as const;
    for (const [variant, count] of Object.entries(expected)) {
      const m = buildBackbone(variant as keyof typeof expected, undefined, 'none');
      expect(m.countParams(), variant).toBe(count);
      expect(
        m.layers.some((l) => l.getClassName() === 'BatchNormalization'),
        variant,
      ).toBe(false);
      m.dispose();
    }
  });

  it('keeps stem and head at 32 and 1280 filters and the first and last stage at one block in Lite', () => {
    const m = buildBackbone('lite4', 300, 'none');
    expect(m.getLayer('stem_conv').getWeights()[0].shape).toEqual([3, 3, 3, 32]);
    expect(m.getLayer('top_conv').getWeights()[0].shape[3]).toBe(1280);
    expect(m.layers.some((l) => l.name === 'block1b_dwconv')).toBe(false);
    expect(m.layers.some((l) => l.name === 'block7b_dwconv')).toBe(false);
    expect(m.layers.some((l) => l.name === 'block6h_dwconv')).toBe(true); // 4 × 1.8 → 8
    m.dispose();
  });
});

describe('TFLite reader: bad files', () => {
  const tooShort = Buffer.from('TFL3');
  it('refuses files that are not TFLite models, with a clear error', () => {
    expect(() => readTflite(tooShort, 'x.tflite')).toThrow(/too short/);
    expect(() => readTflite(Buffer.from('hello, this is not a flatbuffer at all'), 'x.tflite')).toThrow(/not a TFLite model/);
  });

  it.skipIf(!haveWeights)('refuses truncated and damaged files without running out of memory', () => {
    const full = fs.readFileSync(LITE0);
    for (const n of [64, 100_000, full.length - 10]) expect(() => readTflite(full.subarray(0, n), 'cut.tflite'), `${n} bytes`).toThrow(TfliteImportError);
    const damaged = Buffer.from(full);
    for (let i = 8; i < 4000; i += 7) damaged[i] ^= 0x5a;
    expect(() => readTflite(damaged, 'damaged.tflite')).toThrow(/damaged or truncated/);
  });

  it.skipIf(!haveWeights)('names every layer that does not match when the file is another architecture', () => {
    const graph = readTflite(fs.readFileSync(MOBILENET));
    const model = buildModel(defaultSpec('lite0', ['a', 'b'], { head: { pooling: 'avg', denseUnits: 0 } }), 1);
    expect(() => importTfliteWeights(graph, model)).toThrow(/does not match efficientnet_lite0:[\s\S]*operator \d+ \(CONV_2D/);
    model.dispose();
  });
});

describe('import-weights on bad input', () => {
  it('exits 1 with the reason for a damaged file and 2 for an architecture a TFLite file cannot be, writing nothing', async () => {
    const dir = await tempDir();
    const bad = path.join(dir, 'bad.tflite');
    fs.writeFileSync(bad, Buffer.concat([Buffer.from([16, 0, 0, 0]), Buffer.from('TFL3'), Buffer.alloc(64, 0xff)]));
    const errors: string[] = [];
    const out = { stdout: () => {}, info: () => {}, error: (l: string) => errors.push(l) };
    const config = loadConfig({ cwd: dir, overrides: { backend: 'wasm' } });
    const base = { variant: 'lite0', outDir: path.join(dir, 'out'), classes: ['a', 'b'] };
    expect(await runImportWeights(config, { ...base, file: bad }, out)).toBe(1);
    expect(errors.at(-1)).toMatch(/bad\.tflite is damaged or truncated/);
    expect(await runImportWeights(config, { ...base, file: bad, variant: 'b0' }, out)).toBe(2);
    expect(errors.at(-1)).toMatch(/--arch must be one of lite0.*mobilenetv2 for a \.tflite file/);
    expect(await runImportWeights(config, { ...base, file: path.join(dir, 'absent.tflite') }, out)).toBe(1);
    expect(errors.at(-1)).toMatch(/absent\.tflite: no such file/);
    expect(fs.existsSync(base.outDir)).toBe(false);
  });
});

describe.skipIf(!haveWeights)('TFLite ImageNet weights on our engine', () => {
  it("Lite0's 1280 features match the float reference from the dequantized constants", async () => {
    const graph = readTflite(fs.readFileSync(LITE0));
    // The weights README's reference: every constant as float32 in the .bin, located by the .json.
    const ref = JSON.parse(fs.readFileSync(LITE0.replace('_int8.tflite', '_f32.json'), 'utf8')) as { tensors: Record<string, { offset?: number; count?: number; dtype?: string }> };
    const bin = fs.readFileSync(LITE0.replace('_int8.tflite', '_f32.bin'));
    const fromBin = (i: number) => {
      const t = ref.tensors[String(i)];
      return t.dtype === 'float32'
        ? new Float32Array(bin.buffer.slice(bin.byteOffset + t.offset!, bin.byteOffset + t.offset! + t.count! * 4))
        : Float32Array.from(new Int32Array(bin.buffer.slice(bin.byteOffset + t.offset!, bin.byteOffset + t.offset! + t.count! * 4)));
    };
    const model = buildModel(defaultSpec('lite0', ['a', 'b'], { head: { pooling: 'avg', denseUnits: 0 } }), 1);
    const report = importTfliteWeights(graph, model);
    expect(report.loaded).toHaveLength(49);
    expect(report.notInFile).toEqual(['predictions']);
    const weightValues = graph.operators.filter((o) => o.op.includes('CONV')).reduce((n, o) => n + o.inputs.slice(1).reduce((k, i) => k + graph.tensors[i].shape.reduce((a, b) => a * b, 1), 0), 0);
    expect(weightValues).toBe(3_350_000);

    const features = tf.model({ inputs: model.inputs, outputs: model.getLayer('top_activation').output as tf.SymbolicTensor });
    for (const name of ['cat', 'bird']) {
      const x = tf.tensor4d(await photo(name), [1, 224, 224, 3]);
      const ours = tf.mean(features.predict(x) as tf.Tensor, [1, 2]).dataSync();
      const reference = runTfliteReference(graph, tf.sub(tf.mul(x, 2), 1) as tf.Tensor4D, fromBin).dataSync();
      expect(reference).toHaveLength(1280);
      expect(relativeError(ours, reference), name).toBeLessThanOrEqual(1e-4); // measured: 2e-6
    }
    model.dispose();
  });

  it('MobileNetV2 with its ImageNet head names the four photos right on tfjs and on ONNX Runtime', async () => {
    const labels = uniqueLabels(
      fs
        .readFileSync(path.join(WEIGHTS, 'imagenet_labels.txt'), 'utf8')
        .split('\n')
        .filter((l) => l.trim()),
    );
    expect(labels).toHaveLength(1001);
    const spec = defaultSpec('mobilenetv2', labels, { architecture: 'mobilenetv2', head: { pooling: 'avg', batchNorm: false, denseUnits: 0, l1: 0, l2: 0, dropout: 0 } });
    const model = buildModel(spec, 1);
    importTfliteWeights(readTflite(fs.readFileSync(MOBILENET)), model);
    const ort = await OrtModel.create(exportToOnnx(model).bytes, 224, { threads: 1, provider: 'cpu' });
    const expected = { grace_hopper: 'military uniform', cat: 'Egyptian cat', bird: 'chickadee', dragonfly: 'dragonfly' };
    for (const [name, label] of Object.entries(expected)) {
      const input = await photo(name);
      const onTfjs = (model.predict(tf.tensor4d(input, [1, 224, 224, 3])) as tf.Tensor).dataSync();
      const onOrt = (await ort.run(input, 1)).probabilities;
      expect(labels[argmax(onTfjs)], `${name} on tfjs`).toMatch(new RegExp(`^${label}`));
      expect(labels[argmax(onOrt)], `${name} on ONNX Runtime`).toMatch(new RegExp(`^${label}`));
    }
    await ort.dispose();
    model.dispose();
  });
});

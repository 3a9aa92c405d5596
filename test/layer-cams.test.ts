// CAMs on finer maps: the network cut at a stage boundary gives back the whole model's scores, and each
// finer method draws a map at the input size that follows where the evidence is.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, defaultSpec } from '../src/engine/models/spec.js';
import { splitAtSide } from '../src/engine/explain/layer-split.js';
import { splitAtFeatures } from '../src/engine/models/feature-split.js';
import { methodByName } from '../src/engine/explain/index.js';
import { explain } from '../src/engine/explain/types.js';
import { resolveBackend } from '../src/engine/tfjs/backend.js';
import { relativeError } from './helpers.js';

beforeAll(async () => {
  await resolveBackend('wasm');
});

const SIZE = 64;
const image = Float32Array.from({ length: SIZE * SIZE * 3 }, (_, i) => (Math.sin(i * 0.013) + 1) / 2);

describe('a model cut at a stage boundary', () => {
  it.each([
    ['b0', 'efficientnet', 'paper head'],
    ['lite0', 'efficientnet', 'GAP head'],
    ['mobilenetv2', 'mobilenetv2', 'GAP head'],
  ])("%s (%s, %s): the rest of the network from the 16, 8 and 4 px maps gives the model's logits", (variant, architecture, head) => {
    const spec = defaultSpec(variant as 'b0', ['a', 'b', 'c'], { architecture: architecture as 'efficientnet', inputSize: SIZE, head: head === 'GAP head' ? { pooling: 'avg', denseUnits: 0 } : {} });
    const model = buildModel(spec, 3);
    const x = tf.tensor4d(image, [1, SIZE, SIZE, 3]);
    const whole = splitAtFeatures(model).imageScores(x).dataSync();
    for (const side of [16, 8, 4]) {
      const split = splitAtSide(model, side);
      const a = split.features.predict(x) as tf.Tensor;
      expect(a.shape.slice(1, 3)).toEqual([side, side]);
      const viaCut = split.scores(a).dataSync();
      for (let i = 0; i < whole.length; i++) expect(viaCut[i]).toBeCloseTo(whole[i], 4);
    }
    expect(() => splitAtSide(model, 5)).toThrow(/no stage boundary at 5 × 5/);
    model.dispose();
  });
});

describe('Grad-CAM on finer maps and LayerCAM', () => {
  it.each(['gradcam14', 'gradcam28', 'layercam14', 'layercam28', 'layercam', 'layercam56'])('%s gives a normalised map at the input size', async (name) => {
    const model = buildModel(defaultSpec('lite0', ['a', 'b'], { inputSize: SIZE, head: { pooling: 'avg', denseUnits: 0 } }), 5);
    const h = await explain(methodByName(name), { model, classes: ['a', 'b'], image, size: SIZE, target: 1 });
    expect(h.values).toHaveLength(SIZE * SIZE);
    expect(Math.max(...h.values)).toBeCloseTo(1, 5);
    expect(Math.min(...h.values)).toBeGreaterThanOrEqual(0);
    model.dispose();
  });
});

describe('the finer maps from ONNX Runtime', () => {
  it('one run of the gradient graph gives each stage map and its gradient, and the CAMs tfjs gives', async () => {
    const { exportToOnnx } = await import('../src/engine/onnx/export.js');
    const { OrtModel } = await import('../src/engine/onnx/ort-runtime.js');
    const { stagesOn } = await import('../src/engine/forward.js');
    const model = buildModel(defaultSpec('lite0', ['a', 'b', 'c'], { inputSize: SIZE, head: { pooling: 'avg', denseUnits: 0 } }), 5);
    const ort = await OrtModel.create(exportToOnnx(model, { gradient: true }).bytes, SIZE, { threads: 1, provider: 'cpu' });
    expect(ort.stageSides.sort((x, y) => x - y)).toEqual([SIZE / 16, SIZE / 8]);
    for (const name of ['layercam14', 'layercam28', 'gradcam14']) {
      const input = { model, classes: ['a', 'b', 'c'], image, size: SIZE, target: 2 };
      const viaTfjs = await explain(methodByName(name), input);
      const viaOrt = await explain(methodByName(name), { ...input, stageGradient: stagesOn(ort, image, 3) });
      expect(relativeError(viaOrt.values, viaTfjs.values), name).toBeLessThan(1e-3);
    }
    await ort.dispose();
    model.dispose();
  });
});

describe('Integrated Gradients on the 14 × 14 map', () => {
  it("gives a normalised map at the input size whose attributions add up to the score's change from a black image", async () => {
    const model = buildModel(defaultSpec('lite0', ['a', 'b'], { inputSize: SIZE, head: { pooling: 'avg', denseUnits: 0 } }), 5);
    const h = await explain(methodByName('ig14'), { model, classes: ['a', 'b'], image, size: SIZE, target: 1 }, { steps: 32 });
    expect(h.values).toHaveLength(SIZE * SIZE);
    expect(Math.max(...h.values)).toBeCloseTo(1, 5);
    expect(Math.min(...h.values)).toBeGreaterThanOrEqual(0);
    // Completeness in the cut's activations: Σ (A − A′) ⊙ mean gradient = F(x) − F(black).
    const d = h.diagnostics!;
    expect(Math.abs(d.scoreDifference)).toBeGreaterThan(0.1);
    expect(Math.abs(d.sumOfAttributions - d.scoreDifference) / Math.abs(d.scoreDifference)).toBeLessThan(0.05);
    expect(d.completenessGap).toBeLessThan(0.05);
    model.dispose();
  });
});

describe("Integrated Gradients' completeness, in words", () => {
  it('gives the absolute gap and says when the baseline scores like the image', async () => {
    const { describeCompleteness } = await import('../src/services/completeness.js');
    const close = describeCompleteness({ completenessGap: 259.602, scoreDifference: 0.004, sumOfAttributions: 1.042 }, 'black');
    expect(close).toMatch(/gap 1\.038 logit of F\(x\) − F\(baseline\) = 0\.004: the black baseline scores like the image.*blur/);
    expect(close).not.toMatch(/25960/);
    expect(describeCompleteness({ completenessGap: 0.02, scoreDifference: 3.1, sumOfAttributions: 3.162 }, 'black')).toMatch(/gap 0\.062 .* = 3\.100 \(2\.0%\)$/);
  });
});

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveBackend } from '../src/engine/tfjs/backend.js';
import { cam } from '../src/engine/explain/cam.js';
import { gradCam } from '../src/engine/explain/gradcam.js';
import { integratedGradients } from '../src/engine/explain/integrated-gradients.js';
import { lime, weightedRidge } from '../src/engine/explain/lime.js';
import { layersFromTop, randomisationCorrelation, randomiseLayers, spearman } from '../src/engine/explain/sanity.js';
import { slic } from '../src/engine/explain/slic.js';
import { explain, type Heatmap } from '../src/engine/explain/types.js';
import { buildModel, defaultSpec } from '../src/engine/models/spec.js';
import { rng } from '../src/core/random.js';

const S = 32;
// The square the tiny model looks at: rows 8–15, columns 16–23.
const SQ = { top: 8, left: 16, size: 8 };
const inSquare = (p: number) => {
  const y = Math.floor(p / S);
  const x = p % S;
  return y >= SQ.top && y < SQ.top + SQ.size && x >= SQ.left && x < SQ.left + SQ.size;
};

/** Multiplies its input by a fixed 0/1 mask: everything outside the square is invisible to the model. */
class SquareMask extends tf.layers.Layer {
  static className = 'SquareMaskForTests';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const mask = new Float32Array(S * S * 3);
      for (let p = 0; p < S * S; p++) if (inSquare(p)) mask.fill(1, p * 3, p * 3 + 3);
      return tf.mul(x, tf.tensor4d(mask, [1, S, S, 3]));
    });
  }
}
tf.serialization.registerClass(SquareMask);

/**
 * input → mask → top_conv → top_activation → head (GAP + linear, or the paper's max/BN/dense head).
 * top_conv's filters sum to zero: flat colour gives no feature, texture does — so the class-1 score falls
 * when LIME flattens a superpixel inside the square, and nothing outside the square matters.
 */
function squareModel(paperHead = false): tf.LayersModel {
  const input = tf.input({ shape: [S, S, 3] });
  let x = new SquareMask({}).apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'top_conv', kernelInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 1 }), biasInitializer: 'zeros' })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'top_activation' }).apply(x) as tf.SymbolicTensor;
  if (paperHead) {
    x = tf.layers.globalMaxPooling2d({ name: 'head_pool' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: 'head_bn' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: 6, activation: 'relu', name: 'head_dense', kernelInitializer: tf.initializers.randomUniform({ minval: 0.1, maxval: 1, seed: 2 }) }).apply(x) as tf.SymbolicTensor;
  } else {
    x = tf.layers.globalAveragePooling2d({ name: 'head_pool' }).apply(x) as tf.SymbolicTensor;
  }
  const units = paperHead ? 6 : 4;
  const out = tf.layers.dense({ units: 2, activation: 'softmax', name: 'predictions', kernelInitializer: 'zeros' }).apply(x) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  const conv = m.getLayer('top_conv');
  const [k0, b0] = conv.getWeights();
  conv.setWeights([tf.tidy(() => tf.sub(k0, tf.mean(k0, [0, 1, 2], true))), b0]);
  // Class 1's score rises with every feature, class 0's falls.
  const kernel = new Float32Array(units * 2);
  for (let k = 0; k < units; k++) {
    kernel[k * 2] = -1;
    kernel[k * 2 + 1] = 1;
  }
  m.getLayer('predictions').setWeights([tf.tensor2d(kernel, [units, 2]), tf.zeros([2])]);
  return m;
}

/** A smooth random texture (a few waves per channel, like stained cells rather than pixel noise). */
function texture(seed: number, size = S): Float32Array {
  const r = rng(seed);
  const waves = Array.from({ length: 9 }, () => [r() * 0.8 + 0.2, r() * 0.8 + 0.2, r() * 6.28]);
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = 0; k < 3; k++) {
          const [fx, fy, ph] = waves[c * 3 + k];
          v += Math.sin(((fx * x + fy * y) * 6.28 * 3) / size + ph);
        }
        out[(y * size + x) * 3 + c] = 0.5 + 0.1 * v + 0.05 * (r() - 0.5);
      }
    }
  }
  return out;
}

/** Pixels holding the map's maximum (LIME's map is flat over each superpixel, so there are ties). */
function peak(h: Heatmap): number[] {
  let max = -Infinity;
  for (const v of h.values) max = Math.max(max, v);
  return Array.from(h.values.keys()).filter((p) => h.values[p] === max);
}
const peakInSquare = (h: Heatmap) => peak(h).some(inSquare);

beforeAll(async () => {
  await resolveBackend('wasm');
});

describe('explanations with answers known in advance', () => {
  const input = () => ({ model: squareModel(), classes: ['a', 'b'], image: texture(3), size: S, target: 1 });

  it.each([
    ['gradcam', gradCam, {}],
    ['cam', cam, {}],
    ['ig', integratedGradients, { steps: 16 }],
    ['lime', lime, { samples: 200, segments: 25 }],
  ] as const)('%s puts its peak inside the square the model looks at', async (_, method, opts) => {
    const h = await explain(method as never, input(), opts);
    expect(h.values).toHaveLength(S * S);
    expect(peakInSquare(h), `peak at ${peak(h).slice(0, 5)}`).toBe(true);
    expect(h.ms).toBeGreaterThan(0);
    // Most of the relevance mass lies in the square (1/16 of the image).
    let inside = 0;
    let total = 0;
    h.values.forEach((v, p) => {
      total += v;
      if (inSquare(p)) inside += v;
    });
    expect(inside / total).toBeGreaterThan(0.5);
  });

  it('CAM is exact for a GAP + linear head and linearised for the paper head', async () => {
    const exact = await explain(cam, input());
    expect(exact.diagnostics.exact).toBe(1);
    const paper = await explain(cam, { ...input(), model: squareModel(true) });
    expect(paper.diagnostics.exact).toBe(0);
    expect(peakInSquare(paper)).toBe(true);
  });

  it("IG's completeness gap is under 5% at 64 steps on an EfficientNet-B0", async () => {
    const model = buildModel(defaultSpec('b0', ['a', 'b', 'c', 'd'], { inputSize: 64 }), 5);
    const h = await explain(integratedGradients, { model, classes: ['a', 'b', 'c', 'd'], image: texture(4, 64), size: 64, target: 2 }, { steps: 64, batch: 13 });
    expect(Math.abs(h.diagnostics.scoreDifference)).toBeGreaterThan(0);
    expect(h.diagnostics.completenessGap).toBeLessThan(0.05);
    model.dispose();
  });

  it('LIME with a fixed seed gives the same map twice, another seed another map', async () => {
    const a = await explain(lime, input(), { samples: 100, segments: 16, seed: 9 });
    const b = await explain(lime, input(), { samples: 100, segments: 16, seed: 9 });
    const c = await explain(lime, input(), { samples: 100, segments: 16, seed: 10 });
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(Array.from(a.values)).not.toEqual(Array.from(c.values));
  });

  it('randomising the weights changes the Grad-CAM map (rank correlation below 0.5)', async () => {
    const model = buildModel(defaultSpec('b0', ['a', 'b', 'c', 'd'], { inputSize: 64 }), 6);
    const image = texture(7, 64);
    const before = await explain(gradCam, { model, classes: ['a', 'b', 'c', 'd'], image, size: 64, target: 0 });
    randomiseLayers(layersFromTop(model).slice(0, 12), 11);
    const after = await explain(gradCam, { model, classes: ['a', 'b', 'c', 'd'], image, size: 64, target: 0 });
    expect(Math.abs(spearman(before.values, after.values))).toBeLessThan(0.5);
    model.dispose();
  });
});

describe('building blocks', () => {
  it('SLIC keeps superpixels inside flat colour regions and connected', () => {
    // Four flat quadrants.
    const img = new Float32Array(S * S * 3);
    const colours = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [1, 1, 0],
    ];
    for (let p = 0; p < S * S; p++) img.set(colours[(Math.floor(p / S) >= 16 ? 2 : 0) + (p % S >= 16 ? 1 : 0)], p * 3);
    const { labels, count } = slic(img, S, S, 16);
    expect(count).toBeGreaterThanOrEqual(4);
    expect(count).toBeLessThanOrEqual(32);
    const quadrantOf = new Map<number, number>();
    labels.forEach((l, p) => {
      const q = (Math.floor(p / S) >= 16 ? 2 : 0) + (p % S >= 16 ? 1 : 0);
      if (!quadrantOf.has(l)) quadrantOf.set(l, q);
      expect(quadrantOf.get(l)).toBe(q);
    });
  });

  it('weighted ridge regression recovers a known linear function', () => {
    const r = rng(1);
    const x: Uint8Array[] = [];
    const y: number[] = [];
    for (let i = 0; i < 400; i++) {
      const row = Uint8Array.from({ length: 3 }, () => (r() < 0.5 ? 1 : 0));
      x.push(row);
      y.push(0.5 + 2 * row[0] - 1 * row[2]);
    }
    const fit = weightedRidge(
      x,
      y,
      x.map(() => 1),
      3,
      1e-6,
    );
    expect(fit.coef[0]).toBeCloseTo(2, 4);
    expect(fit.coef[1]).toBeCloseTo(0, 4);
    expect(fit.coef[2]).toBeCloseTo(-1, 4);
    expect(fit.intercept).toBeCloseTo(0.5, 4);
    expect(fit.r2).toBeCloseTo(1, 6);
  });

  it('Spearman correlation', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1);
    expect(spearman([1, 1, 2], [1, 1, 2])).toBeCloseTo(1);
    // A constant (empty) map has no ranking: left out, not scored as a perfect 0.
    expect(randomisationCorrelation([0.2, 0.5, 0.9], [0, 0, 0])).toBeNull();
    expect(randomisationCorrelation([1, 1, 1], [0.1, 0.3, 0.2])).toBeNull();
    expect(randomisationCorrelation([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1);
  });
});

describe('explanation quality measures', () => {
  it('deletion falls faster and insertion rises faster for the right map than for a wrong one', async () => {
    const { deletionAuc, insertionAuc } = await import('../src/engine/explain/quality.js');
    const model = squareModel();
    const image = texture(3);
    const right = new Float32Array(S * S).map((_, p) => (inSquare(p) ? 1 : 0));
    const wrong = new Float32Array(S * S).map((_, p) => (inSquare(p) ? 0 : 1));
    expect(await deletionAuc(model, 2, 1, image, right, S)).toBeLessThan(await deletionAuc(model, 2, 1, image, wrong, S));
    expect(await insertionAuc(model, 2, 1, image, right, S)).toBeGreaterThan(await insertionAuc(model, 2, 1, image, wrong, S));
  });

  it('pointing game and relevance mass', async () => {
    const { areaUnder, pointingGame, relevanceMass } = await import('../src/engine/explain/quality.js');
    const mask = new Uint8Array(16).map((_, i) => (i === 5 || i === 6 ? 1 : 0)); // 4 × 4, two cells
    const map = new Float32Array(16);
    map[0] = 1;
    expect(pointingGame(map, mask, 4, 0)).toBe(false);
    expect(pointingGame(map, mask, 4, 2)).toBe(true);
    map[6] = 3;
    expect(pointingGame(map, mask, 4, 0)).toBe(true);
    expect(relevanceMass(map, mask)).toBeCloseTo(0.75);
    expect(areaUnder([1, 0])).toBeCloseTo(0.5);
    expect(areaUnder([1, 1, 0])).toBeCloseTo(0.75);
  });
});

describe('the scale-mark corner', () => {
  it('covers the bottom-right 15% × 10% of the image: a map there has all its mass in it, a uniform map 1.5%', async () => {
    const { cornerMask, relevanceMass } = await import('../src/engine/explain/quality.js');
    const size = 100;
    const corner = cornerMask(size);
    expect(corner.reduce((a, b) => a + b, 0)).toBe(150);
    expect(corner[99 * size + 99]).toBe(1);
    expect(corner[0]).toBe(0);
    expect(relevanceMass(new Float32Array(size * size).fill(1), corner)).toBeCloseTo(0.015, 6);
    expect(relevanceMass(Float32Array.from(corner), corner)).toBe(1);
  });
});

describe('randomising layers for the sanity check', () => {
  it('keeps batch-norm variances positive, so the randomised model still gives numbers', async () => {
    const { randomiseLayers, layersFromTop } = await import('../src/engine/explain/sanity.js');
    const { buildModel, defaultSpec } = await import('../src/engine/models/spec.js');
    const tfjs = await import('@tensorflow/tfjs');
    const model = buildModel(defaultSpec('b0', ['a', 'b', 'c'], { inputSize: 32 }), 1);
    // Trained variances spread widely (a fresh model has them all at 1): a draw around their mean can go below 0.
    for (const layer of layersFromTop(model).slice(0, 8)) {
      layer.setWeights(
        layer.getWeights().map((w, i) =>
          layer.weights[i].name.includes('moving_variance')
            ? tfjs.tensor(
                Float32Array.from({ length: w.size }, (_, k) => 0.01 + 3 * ((k * 0.618) % 1) ** 3),
                w.shape,
              )
            : w,
        ),
      );
    }
    randomiseLayers(layersFromTop(model).slice(0, 8), 3);
    for (const layer of model.layers) {
      layer.weights.forEach((w, i) => {
        if (w.name.includes('moving_variance')) expect(Math.min(...layer.getWeights()[i].dataSync())).toBeGreaterThan(0);
      });
    }
    const out = tfjs.tidy(() => Array.from((model.predict(tfjs.ones([1, 32, 32, 3])) as import('@tensorflow/tfjs').Tensor).dataSync()));
    expect(out.every(Number.isFinite)).toBe(true);
    model.dispose();
  });
});

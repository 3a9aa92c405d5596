// Model-randomisation sanity check (Adebayo et al. 2018): re-initialise the top layers, from the output
// down, and see how much an explanation changes. A method whose map survives randomisation is not
// explaining the model.
import * as tf from '@tensorflow/tfjs';
import { rng } from '../../core/random.js';

/** Spearman rank correlation (average ranks for ties). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const rank = (v: ArrayLike<number>) => {
    const idx = Array.from({ length: v.length }, (_, i) => i).sort((i, j) => v[i] - v[j]);
    const r = new Float64Array(v.length);
    for (let i = 0; i < idx.length;) {
      let j = i;
      while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
      for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = ra.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return da && db ? num / Math.sqrt(da * db) : 0;
}

/**
 * Rank correlation between a map and the map of the randomised model; null when either is constant
 * (an empty map has no ranking: counting it as 0 would read as a perfect pass of the check).
 */
export function randomisationCorrelation(original: ArrayLike<number>, randomised: ArrayLike<number>): number | null {
  const constant = (v: ArrayLike<number>) => Array.prototype.every.call(v, (x: number) => x === v[0]);
  return constant(original) || constant(randomised) ? null : spearman(original, randomised);
}

/** Layers with weights, from the output backwards: the cascade order. */
export function layersFromTop(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => l.trainableWeights.length > 0).reverse();
}

/** Replaces the weights of `layers` with random values of the same scale (std of the originals). */
export function randomiseLayers(layers: tf.layers.Layer[], seed: number): void {
  const random = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  for (const layer of layers) {
    const next = layer.getWeights().map((w, wi) => {
      const data = w.dataSync();
      // A batch norm's moving variance must stay positive: a negative draw makes every output NaN and
      // every map of the randomised model constant (its rank correlation then reads 0 whatever the method).
      const variance = /moving_variance/.test(layer.weights[wi]?.name ?? '');
      let mean = 0;
      for (const v of data) mean += v / data.length;
      let sd = 0;
      for (const v of data) sd += (v - mean) ** 2 / data.length;
      sd = Math.sqrt(sd) || 0.05;
      const out = new Float32Array(data.length);
      for (let i = 0; i < out.length; i++) out[i] = variance ? Math.abs(mean + sd * gauss()) + 1e-3 : mean + sd * gauss();
      return tf.tensor(out, w.shape);
    });
    layer.setWeights(next);
    tf.dispose(next);
  }
}

// A lab's colour, and the model made to see it as the training images' colour (issue #39). Another
// microscope, lamp, camera and stain move each channel's level and spread; an affine map per channel that
// gives the lab's images the training images' mean and spread undoes most of it. The map is folded into
// the model's input Normalization layer ((x − mean) / √variance), so the adapted model is an ordinary
// bundle: every forward pass, map and export sees the lab's slides as the training images' colour.
//
// Measured on the default model (docs/benchmarks/cross-lab): PBC normal cells called malignant 36% → 7%,
// BCCD and the home lab unchanged. Images of cells cut out on black have no background to match: their
// statistics are the cells' alone, and the map made the segmented twins worse (66% → 36%), so such a lab
// is refused colour alignment (BLACK_SHARE_LIMIT).
import type * as tf from '@tensorflow/tfjs';

/** Per-channel mean and standard deviation in [0, 1] of the pixels that are not near-black. */
export interface ColourStats {
  mean: [number, number, number];
  std: [number, number, number];
  /** The share of pixels left out as near-black (cells cut out on black). */
  blackShare: number;
}

/** A pixel whose channels sum below this is background of an image cut out on black. */
const NEAR_BLACK_SUM = 0.12;
/** Every n-th pixel is enough for three means and spreads. */
const PIXEL_STEP = 7;
/** Above this share of near-black pixels a lab's colour is not aligned (see the top of the file). */
export const BLACK_SHARE_LIMIT = 0.3;

/** Colour statistics of model inputs (NHWC floats in [0, 1], one image a row); bytes work alike divided by 255. */
export function colourStats(images: ArrayLike<number>[], scale = 1): ColourStats {
  const sum = [0, 0, 0];
  const squares = [0, 0, 0];
  let kept = 0;
  let seen = 0;
  for (const image of images) {
    for (let p = 0; p < image.length; p += 3 * PIXEL_STEP) {
      const rgb = [image[p] * scale, image[p + 1] * scale, image[p + 2] * scale];
      seen++;
      if (rgb[0] + rgb[1] + rgb[2] < NEAR_BLACK_SUM) continue;
      for (let c = 0; c < 3; c++) {
        sum[c] += rgb[c];
        squares[c] += rgb[c] * rgb[c];
      }
      kept++;
    }
  }
  if (!kept) return { mean: [0, 0, 0], std: [0, 0, 0], blackShare: 1 };
  const mean = sum.map((s) => s / kept) as ColourStats['mean'];
  const std = squares.map((s, c) => Math.sqrt(Math.max(s / kept - mean[c] ** 2, 1e-8))) as ColourStats['std'];
  return { mean, std, blackShare: 1 - kept / seen };
}

/**
 * The Normalization layer's mean and variance that first map the lab's colour onto the reference's,
 * x' = (x − m_lab)·s_ref/s_lab + m_ref, then normalise as before, (x' − μ)/σ. Together:
 * (x − [m_lab + (μ − m_ref)·s_lab/s_ref]) / (σ·s_lab/s_ref).
 */
export function alignedNormalization(mu: number[], variance: number[], reference: ColourStats, lab: ColourStats): { mean: number[]; variance: number[] } {
  const ratio = lab.std.map((s, c) => s / reference.std[c]);
  return {
    mean: mu.map((m, c) => lab.mean[c] + (m - reference.mean[c]) * ratio[c]),
    variance: variance.map((v, c) => v * ratio[c] ** 2),
  };
}

export interface InputNormalization {
  mean: number[];
  variance: number[];
}

/** The model's `normalization` layer's statistics (null: it has none). */
export function inputNormalization(model: tf.LayersModel): InputNormalization | null {
  const layer = model.layers.find((l) => l.name === 'normalization');
  if (!layer) return null;
  const [mean, variance] = layer.getWeights().map((w) => Array.from(w.dataSync()));
  return { mean, variance };
}

/**
 * Writes into the model's `normalization` layer the statistics that align the lab's colour, from the
 * layer as trained (`trained`: an adapted model's layer already holds another lab's map).
 */
export function foldColourAlignment(model: tf.LayersModel, trained: InputNormalization, reference: ColourStats, lab: ColourStats, tfjs: typeof tf): void {
  const layer = model.layers.find((l) => l.name === 'normalization');
  if (!layer) throw new Error('the model has no input normalisation');
  const aligned = alignedNormalization(trained.mean, trained.variance, reference, lab);
  const [mean, variance] = [tfjs.tensor1d(aligned.mean), tfjs.tensor1d(aligned.variance)];
  layer.setWeights([mean, variance, ...layer.getWeights().slice(2)]);
  tfjs.dispose([mean, variance]);
}

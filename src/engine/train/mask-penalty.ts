// The localisation penalty (issue #23, after "right for the right reasons", Ross et al. 2017): the share
// of the 14 × 14 feature map's structure that lies outside the image's white cells, per image, weighted
// and added to the loss. Structure at a position is D = Σ_channels |a − m|, m the channel's mean over the
// surroundings: the surroundings may have any constant activity (a map is scaled from its minimum), but
// no pattern. LayerCAM on that map weighs each position by its activity, so a model whose surroundings
// are featureless has maps that land on the cells. Unlike a penalty on input gradients it needs no double
// backprop: the share is a forward quantity of the map. (Zero activity outside, tried first, cost 3–5
// points of validation accuracy: docs/explanations.md.)
// The masks are the training images' own segmented twins; held-out images' masks are never read.
import * as tf from '@tensorflow/tfjs';
import { dihedralSource } from './augment.js';

/** The map the penalty reads: the last one at input / 16 px (14 × 14 at 224), LayerCAM 14²'s. */
export const PENALTY_STRIDE = 16;

export const penaltySide = (imgSize: number) => Math.round(imgSize / PENALTY_STRIDE);

/** What a micro-batch carries for the penalty. */
export interface CellPenalty {
  /** n × side × side: each map position's share outside the cells (0 everywhere: no mask, no penalty). */
  outside: Float32Array;
  side: number;
  /** λ: the penalty's weight in the loss (the mean share over the micro-batch's images, times λ). */
  weight: number;
}

/**
 * Writes, at `offset` of `into`, the share of each of side × side map positions that lies outside the
 * cells of `mask` (size × size, 1 = cell) once dihedral transform t has moved it as it moved the image.
 */
export function writeOutsideGrid(mask: Uint8Array, size: number, side: number, t: number, into: Float32Array, offset: number): void {
  for (let gy = 0; gy < side; gy++) {
    const [y0, y1] = [Math.floor((gy * size) / side), Math.floor(((gy + 1) * size) / side)];
    for (let gx = 0; gx < side; gx++) {
      const [x0, x1] = [Math.floor((gx * size) / side), Math.floor(((gx + 1) * size) / side)];
      let inside = 0;
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) {
          const [sy, sx] = dihedralSource(t, y, x, size);
          inside += mask[sy * size + sx];
        }
      into[offset + gy * side + gx] = 1 - inside / ((y1 - y0) * (x1 - x0));
    }
  }
}

/** Added to the sums divided by, here and in the ONNX training graph (export-mask-penalty.ts), alike. */
export const PENALTY_EPSILON = 1e-6;

/** Each image's share of structure outside its cells: features [n, side, side, k], outside [n, side, side]. */
export function outsideShare(features: tf.Tensor, outside: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const o = tf.expandDims(outside, -1);
    const surroundings = tf.add(tf.sum(o, [1, 2], true), PENALTY_EPSILON);
    const mean = tf.div(tf.sum(tf.mul(features, o), [1, 2], true), surroundings);
    const structure = tf.sum(tf.abs(tf.sub(features, mean)), -1);
    const total = tf.add(tf.sum(structure, [1, 2]), PENALTY_EPSILON);
    return tf.div(tf.sum(tf.mul(structure, outside), [1, 2]), total) as tf.Tensor1D;
  });
}

// CAMs on feature maps finer than `top_activation` (7 × 7 at 224 px, too coarse to find a cell in a field
// of several): Grad-CAM at the last 14 × 14 or 28 × 28 map, and LayerCAM (Jiang et al. 2021), which
// weighs every position of a map by its own positive gradient and fuses the 28, 14 and 7 px maps.
// One base: a weight function on (feature map, gradient), as pytorch-grad-cam's methods share theirs.
import * as tf from '@tensorflow/tfjs';
import { splitAtFeatures } from '../models/feature-split.js';
import { splitAtSide } from './layer-split.js';
import { normalise, upsample, type ExplainInput, type ExplanationMethod } from './types.js';

/** Grad-CAM's weights: one per channel, the spatial mean of the gradient. */
const gradCamWeights = (a: tf.Tensor4D, g: tf.Tensor4D) => tf.mul(a, tf.mean(g, [1, 2], true));
/** LayerCAM's weights: the positive gradient at each position. */
const layerCamWeights = (a: tf.Tensor4D, g: tf.Tensor4D) => tf.mul(a, tf.relu(g));

type Weigh = (a: tf.Tensor4D, g: tf.Tensor4D) => tf.Tensor;

/** ReLU(Σ_k weights ⊙ A_k) on the map at `side` px (0: top_activation), upsampled to the input. */
function camAt(input: ExplainInput, side: number, weigh: Weigh): Float32Array {
  const { model, image, size, target } = input;
  const split = side ? splitAtSide(model, side) : splitAtFeatures(model);
  const map = tf.tidy(() => {
    const a = split.features.predict(tf.tensor4d(image, [1, size, size, 3])) as tf.Tensor4D;
    const g = tf.grad((fa: tf.Tensor) => split.scores(fa).slice([0, target], [1, 1]).sum())(a) as tf.Tensor4D;
    return tf.keep(tf.relu(tf.sum(weigh(a, g), -1)).squeeze([0]) as tf.Tensor2D);
  });
  try {
    return upsample(map, size);
  } finally {
    map.dispose();
  }
}

/** Grad-CAM on the last map of `side` = input / `stride` pixels. */
export function gradCamAtStride(name: string, stride: number): ExplanationMethod<Record<string, never>> {
  return {
    name,
    defaults: {},
    async compute(input) {
      return { map: camAt(input, Math.round(input.size / stride), gradCamWeights) };
    },
  };
}

/** LayerCAM fused over the maps at these strides (0: top_activation), each scaled to [0, 1] first so that
 *  the finer maps are not drowned by the coarser ones; the fused map is their maximum. */
function layerCamOver(name: string, strides: number[]): ExplanationMethod<Record<string, never>> {
  return {
    name,
    defaults: {},
    async compute(input) {
      const maps = strides.map((stride) => normalise(camAt(input, stride ? Math.round(input.size / stride) : 0, layerCamWeights)));
      return { map: Float32Array.from(maps[0], (_, i) => Math.max(...maps.map((m) => m[i]))) };
    },
  };
}

/** The last three stages: 28, 14 and 7 px maps at 224. */
export const layerCam = layerCamOver('layercam', [8, 16, 0]);
/** The last four: the 56 px map too, where a stained nucleus is still a few positions across. */
export const layerCam56 = layerCamOver('layercam56', [4, 8, 16, 0]);

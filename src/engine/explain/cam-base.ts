// The one CAM base, as pytorch-grad-cam's BaseCAM: a feature map of the model (the last, `top_activation`,
// or an earlier stage's at `side` px), a weight function on (map, gradient of the class score), and the
// map Σ_k weights ⊙ A_k, ReLU'd unless the method keeps negative evidence, upsampled to the input.
// Grad-CAM, CAM, Grad-CAM on finer maps and LayerCAM are weight functions on it.
import * as tf from '@tensorflow/tfjs';
import { splitAtFeatures } from '../models/feature-split.js';
import { splitAtSide } from './layer-split.js';
import { upsample, type ExplainInput, type ExplanationMethod } from './types.js';

/** What a weight function may use besides the map: the model and the class. */
export interface CamContext {
  model: tf.LayersModel;
  target: number;
  /** ∂(class score)/∂map, computed on first use. */
  gradient(): tf.Tensor4D;
}

/** The weighted map before the channel sum: [1, h, w, k]. */
export type CamWeights = (a: tf.Tensor4D, ctx: CamContext) => tf.Tensor;

export interface CamOptions {
  /** The map's side in pixels (0: `top_activation`, where the engine's forward pass may hand it over). */
  side?: number;
  /** Keep negative evidence (CAM) instead of ReLU (Grad-CAM, LayerCAM). */
  signed?: boolean;
}

/** The CAM of one map as a float map at the input size. */
export async function camMap(input: ExplainInput, weigh: CamWeights, opts: CamOptions = {}): Promise<Float32Array> {
  const { model, image, size, target } = input;
  // A finer map and its gradient from one run of the faster runtime's gradient graph, where it has them.
  const stage = opts.side ? await input.stageGradient?.(opts.side, target) : null;
  const split = stage ? null : opts.side ? splitAtSide(model, opts.side) : splitAtFeatures(model);
  const fast = opts.side ? null : await input.featureMap?.();
  const dims = (d: number[]) => d as [number, number, number, number];
  const map = tf.tidy(() => {
    const a = stage ? tf.tensor4d(stage.map, dims(stage.dims)) : fast ? tf.tensor4d(fast.data, dims(fast.dims)) : (split!.features.predict(tf.tensor4d(image, [1, size, size, 3])) as tf.Tensor4D);
    const gradient = () => (stage ? tf.tensor4d(stage.gradient, dims(stage.dims)) : (tf.grad((fa: tf.Tensor) => split!.scores(fa).slice([0, target], [1, 1]).sum())(a) as tf.Tensor4D));
    const summed = tf.sum(weigh(a, { model, target, gradient }), -1);
    return tf.keep((opts.signed ? summed : tf.relu(summed)).squeeze([0]) as tf.Tensor2D);
  });
  try {
    return upsample(map, size);
  } finally {
    map.dispose();
  }
}

/** A CAM method from its weight function. */
export function camMethod(name: string, weigh: CamWeights, opts: CamOptions = {}): ExplanationMethod<Record<string, never>> {
  return { name, defaults: {}, compute: async (input) => ({ map: await camMap(input, weigh, opts) }) };
}

/** Grad-CAM's weights: one per channel, the spatial mean of the gradient. */
export const gradCamWeights: CamWeights = (a, ctx) => tf.mul(a, tf.mean(ctx.gradient(), [1, 2], true));

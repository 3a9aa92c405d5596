// Grad-CAM (Selvaraju et al. 2017) on `top_activation`: channel weights are the spatial means of the
// gradient of the class score (logit) through the head, the map is ReLU(Σ_k α_k A_k), upsampled.
import * as tf from '@tensorflow/tfjs';
import { splitAtFeatures } from '../models/feature-split.js';
import { upsample, type ExplanationMethod } from './types.js';

export const gradCam: ExplanationMethod<Record<string, never>> = {
  name: 'gradcam',
  defaults: {},
  async compute({ model, image, size, target, featureMap }) {
    const split = splitAtFeatures(model);
    const fast = await featureMap?.();
    const map = tf.tidy(() => {
      const a = fast ? tf.tensor4d(fast.data, fast.dims as [number, number, number, number]) : (split.features.predict(tf.tensor4d(image, [1, size, size, 3])) as tf.Tensor4D);
      const grads = tf.grad((fa: tf.Tensor) => split.scores(fa).slice([0, target], [1, 1]).sum())(a) as tf.Tensor4D;
      const alpha = tf.mean(grads, [1, 2]); // [1, k]
      const cam = tf.relu(tf.sum(tf.mul(a, alpha.reshape([1, 1, 1, -1])), -1)).squeeze([0]) as tf.Tensor2D;
      return tf.keep(cam);
    });
    try {
      return { map: upsample(map, size) };
    } finally {
      map.dispose();
    }
  },
};

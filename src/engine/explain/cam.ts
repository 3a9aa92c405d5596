// Class Activation Mapping (Zhou et al. 2016) from the head's class weights.
//
// CAM is defined for global average pooling followed by one linear layer: M_c(x, y) = Σ_k w_k^c A_k(x, y).
// For that head (head.pooling = avg, no batch norm, no hidden dense) it is computed exactly from the
// output layer's weights, without gradients.
//
// The paper's head (global max pooling → batch norm → dense + ReLU → dropout → dense) is not linear in
// the pooled features. It is piecewise linear, though: for this image, with the ReLU pattern fixed, the
// class score is exactly w_eff · pooled + b, where w_eff = ∂score/∂pooled combines the batch norm scale,
// both dense layers and the active ReLUs. CAM then applies w_eff to the feature map at every position:
// M_c(x, y) = Σ_k w_eff,k A_k(x, y), kept signed and min–max scaled, as CAM is drawn.
// How it differs from Grad-CAM: Grad-CAM's α_k is the spatial mean of ∂score/∂A_k, and through a max
// pool that gradient is w_eff,k at the maximum of channel k and zero elsewhere, so α_k = w_eff,k / (h·w):
// the same channel weights. The two maps differ only in that Grad-CAM clips negative evidence (ReLU)
// and CAM keeps it, so on this head CAM adds little beyond Grad-CAM; with a GAP + linear head both are
// exact and equal up to the ReLU.
import * as tf from '@tensorflow/tfjs';
import { isGapLinearHead, logits, splitAtFeatures } from '../models/feature-split.js';
import { upsample, type ExplanationMethod } from './types.js';

export const cam: ExplanationMethod<Record<string, never>> = {
  name: 'cam',
  defaults: {},
  async compute({ model, image, size, target, featureMap }) {
    const split = splitAtFeatures(model);
    const exact = isGapLinearHead(model);
    const fast = await featureMap?.();
    const map = tf.tidy(() => {
      const a = fast ? tf.tensor4d(fast.data, fast.dims as [number, number, number, number]) : (split.features.predict(tf.tensor4d(image, [1, size, size, 3])) as tf.Tensor4D);
      const k = a.shape[3];
      let w: tf.Tensor;
      if (exact) {
        // Class weights of the output layer (for one sigmoid unit, class 0 is −w).
        const kernel = model.getLayer('predictions').getWeights()[0] as tf.Tensor2D;
        w = kernel.shape[1] === 1 ? tf.mul(kernel.reshape([k]), target === 1 ? 1 : -1) : kernel.slice([0, target], [k, 1]).reshape([k]);
      } else {
        // w_eff = ∂score/∂pooled, through batch norm, dense, ReLU and the output layer.
        const pool = model.getLayer('head_pool');
        const pooled = pool.apply(a, { training: false }) as tf.Tensor2D;
        const rest = (p: tf.Tensor) => {
          let h = p;
          for (const name of ['head_bn', 'head_dense', 'head_dropout']) {
            try {
              h = model.getLayer(name).apply(h, { training: false }) as tf.Tensor;
            } catch {
              // layer absent in this head
            }
          }
          return logits(model, h).slice([0, target], [1, 1]).sum();
        };
        w = (tf.grad(rest)(pooled) as tf.Tensor).reshape([k]);
      }
      return tf.keep(tf.sum(tf.mul(a, w.reshape([1, 1, 1, k])), -1).squeeze([0]) as tf.Tensor2D);
    });
    try {
      return { map: upsample(map, size), diagnostics: { exact: exact ? 1 : 0 } };
    } finally {
      map.dispose();
    }
  },
};

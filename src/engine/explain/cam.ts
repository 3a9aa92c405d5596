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
import { isGapLinearHead, logits } from '../models/feature-split.js';
import { camMap, type CamWeights } from './cam-base.js';
import type { ExplanationMethod } from './types.js';

/** w_eff = ∂score/∂pooled, through batch norm, dense, ReLU and the output layer (exactly the class
 *  weights of the output layer on a GAP + linear head; for one sigmoid unit, class 0 is −w). */
function effectiveWeights(model: tf.LayersModel, a: tf.Tensor4D, target: number): tf.Tensor {
  const k = a.shape[3];
  if (isGapLinearHead(model)) {
    const kernel = model.getLayer('predictions').getWeights()[0] as tf.Tensor2D;
    return kernel.shape[1] === 1 ? tf.mul(kernel.reshape([k]), target === 1 ? 1 : -1) : kernel.slice([0, target], [k, 1]).reshape([k]);
  }
  const pooled = model.getLayer('head_pool').apply(a, { training: false }) as tf.Tensor2D;
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
  return (tf.grad(rest)(pooled) as tf.Tensor).reshape([k]);
}

const camWeights: CamWeights = (a, { model, target }) => tf.mul(a, effectiveWeights(model, a, target).reshape([1, 1, 1, a.shape[3]]));

export const cam: ExplanationMethod<Record<string, never>> = {
  name: 'cam',
  defaults: {},
  async compute(input) {
    return { map: await camMap(input, camWeights, { signed: true }), diagnostics: { exact: isGapLinearHead(input.model) ? 1 : 0 } };
  },
};

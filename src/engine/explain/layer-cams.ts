// CAMs on feature maps finer than `top_activation` (7 × 7 at 224 px, too coarse to find a cell in a field
// of several): Grad-CAM at the last 14 × 14 or 28 × 28 map, and LayerCAM (Jiang et al. 2021), which
// weighs every position of a map by its own positive gradient and fuses the 28, 14 and 7 px maps.
// One base: a weight function on (feature map, gradient), as pytorch-grad-cam's methods share theirs.
import * as tf from '@tensorflow/tfjs';
import { camMap, gradCamWeights, type CamWeights } from './cam-base.js';
import { normalise, type ExplanationMethod } from './types.js';

/** LayerCAM's weights: the positive gradient at each position. */
const layerCamWeights: CamWeights = (a, ctx) => tf.mul(a, tf.relu(ctx.gradient()));

/** Grad-CAM on the last map of `side` = input / `stride` pixels. */
export function gradCamAtStride(name: string, stride: number): ExplanationMethod<Record<string, never>> {
  return {
    name,
    defaults: {},
    compute: async (input) => ({ map: await camMap(input, gradCamWeights, { side: Math.round(input.size / stride) }) }),
  };
}

/** LayerCAM fused over the maps at these strides (0: top_activation), each scaled to [0, 1] first so that
 *  the finer maps are not drowned by the coarser ones; the fused map is their maximum. */
function layerCamOver(name: string, strides: number[]): ExplanationMethod<Record<string, never>> {
  return {
    name,
    defaults: {},
    async compute(input) {
      const maps: Float32Array[] = [];
      for (const stride of strides) maps.push(normalise(await camMap(input, layerCamWeights, { side: stride ? Math.round(input.size / stride) : 0 })));
      const fused = maps[0];
      for (const m of maps.slice(1)) for (let i = 0; i < fused.length; i++) fused[i] = Math.max(fused[i], m[i]);
      return { map: fused };
    },
  };
}

/** One map: the 14 × 14 (stride 16) or 28 × 28 (stride 8) at 224. On a model that reads the cells the
 *  14 × 14 map alone points into them most often and puts the most relevance in them (docs/explanations.md):
 *  the 7 × 7 map, which the fusions below take the maximum with, spreads over groups of cells. */
export const layerCam14 = layerCamOver('layercam14', [16]);
export const layerCam28 = layerCamOver('layercam28', [8]);
/** The last three stages: 28, 14 and 7 px maps at 224. */
export const layerCam = layerCamOver('layercam', [8, 16, 0]);
/** The last four: the 56 px map too, where a stained nucleus is still a few positions across. */
export const layerCam56 = layerCamOver('layercam56', [4, 8, 16, 0]);

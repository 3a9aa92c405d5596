// A classifier cut at an earlier feature map than `top_activation`: the backbone up to the cut, and the
// rest of the network from the cut to the class scores (logits), run layer by layer. Used by Grad-CAM on
// finer maps (14 × 14, 28 × 28 at 224 px) and by LayerCAM.
//
// The cut is the input of a stage's first block (`block<N>a_…`): in the EfficientNet and MobileNetV2
// tables every later layer depends on the image only through that tensor, so the rest is a clean suffix.
import * as tf from '@tensorflow/tfjs';
import { logits } from '../models/feature-split.js';

export interface LayerSplit {
  /** Where the cut is: the stage whose input it is, and its side in pixels of the feature map. */
  name: string;
  side: number;
  features: tf.LayersModel;
  /** [1, h, w, k] feature maps at the cut → [1, classes] logits. */
  scores(features: tf.Tensor): tf.Tensor2D;
}

const cache = new WeakMap<tf.LayersModel, Map<number, LayerSplit>>();

/** The input of the first block whose output is smaller than `side`, i.e. the last map at that side
 *  (also the map the localisation penalty of training reads: train/mask-penalty.ts). */
export function cutTensor(model: tf.LayersModel, side: number): { tensor: tf.SymbolicTensor; stage: string } {
  const seen = new Set<string>();
  for (const layer of model.layers) {
    const m = layer.name.match(/^block(\d+)a_(expand_conv|dwconv_pad|dwconv)$/);
    // Only a block's first layer takes the block's input (its dwconv may take a padded map).
    if (!m || seen.has(m[1])) continue;
    seen.add(m[1]);
    const input = layer.input as tf.SymbolicTensor;
    const out = (model.getLayer(`block${m[1]}a_dwconv`).output as tf.SymbolicTensor).shape[1];
    if (input.shape[1] === side && out !== null && out < side) return { tensor: input, stage: `block${m[1]}a input` };
  }
  throw new Error(`${model.name} has no stage boundary at ${side} × ${side}: finer maps need an EfficientNet or MobileNetV2 model`);
}

/** Cuts the model at its last `side` × `side` feature map (cached per model and side). */
export function splitAtSide(model: tf.LayersModel, side: number): LayerSplit {
  let byside = cache.get(model);
  if (!byside) cache.set(model, (byside = new Map()));
  const hit = byside.get(side);
  if (hit) return hit;
  const { tensor, stage } = cutTensor(model, side);
  const features = tf.model({ inputs: model.inputs, outputs: tensor });
  const after = model.layers.slice(model.layers.indexOf(tensor.sourceLayer as tf.layers.Layer) + 1);
  const scores = (a: tf.Tensor) =>
    tf.tidy(() => {
      const values = new Map<number, tf.Tensor>([[tensor.id, a]]);
      for (const layer of after) {
        const inputs = layer.inboundNodes[0].inputTensors.map((t) => values.get(t.id));
        if (inputs.some((t) => !t)) continue; // a layer before the cut
        if (layer.name === 'predictions') return logits(model, inputs[0]!);
        const out = layer.apply(inputs.length === 1 ? inputs[0]! : (inputs as tf.Tensor[]), { training: false }) as tf.Tensor;
        values.set((layer.output as tf.SymbolicTensor).id, out);
      }
      throw new Error(`${model.name}: no "predictions" layer after the cut`);
    });
  const split = { name: stage, side, features, scores };
  byside.set(side, split);
  return split;
}

// Undoing the class weights' prior shift. A cross-entropy weighted by w_c is minimised by
// q(c|x) ∝ w_c·p(c|x): the trained model over-calls the classes it up-weighted (here Benign, the
// smallest). Dividing by w_c gives back p(c|x), the probability the decision should use. For a softmax
// that is −log w_c added to the output bias; for one sigmoid unit (p of the second class) it is
// −log(w_1 / w_0). Folded into the weights, so every runtime, export and explanation sees it.
import * as tf from '@tensorflow/tfjs';

export const OUTPUT_LAYER = 'predictions';

/** Shifts the output layer's bias; returns the shift per class (logit units), or null when there is nothing to shift. */
export function applyPriorCorrection(model: tf.LayersModel, classes: string[], weights: number[]): Record<string, number> | null {
  if (weights.length !== classes.length) throw new Error(`${weights.length} class weights for ${classes.length} classes`);
  if (weights.every((w) => w === weights[0])) return null;
  const layer = model.layers.find((l) => l.name === OUTPUT_LAYER);
  const [kernel, bias] = layer?.getWeights() ?? [];
  if (!layer || !bias) throw new Error(`the model has no output layer '${OUTPUT_LAYER}' with a bias to correct`);
  const units = bias.shape[0] as number;
  let shift: number[];
  // A class missing from the training part has weight 0; its output is left as it is.
  const logW = weights.map((w) => (w > 0 ? Math.log(w) : 0));
  if (units === classes.length) shift = logW.map((l) => 0 - l); // 0 - l: never -0
  else if (units === 1 && classes.length === 2) shift = [0, logW[0] - logW[1]];
  else throw new Error(`the output layer has ${units} units for ${classes.length} classes`);
  const old = bias.dataSync();
  const next = tf.tensor1d(units === 1 ? [old[0] + shift[1]] : Array.from(old, (b, c) => b + shift[c]));
  layer.setWeights([kernel, next]);
  next.dispose();
  return Object.fromEntries(classes.map((c, i) => [c, shift[i]]));
}

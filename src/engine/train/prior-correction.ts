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
  // A class missing from the training part has weight 0; its output is left as it is.
  const logW = weights.map((w) => (w > 0 ? Math.log(w) : 0));
  const shift = classes.length === 2 && outputUnits(model) === 1 ? [0, logW[0] - logW[1]] : logW.map((l) => 0 - l); // 0 - l: never -0
  shiftOutputBias(model, shift, 1);
  return Object.fromEntries(classes.map((c, i) => [c, shift[i]]));
}

/**
 * Takes a correction recorded in a bundle's manifest back out of its model, so that training goes on
 * from what the class-weighted loss left (and ends with one correction, for its own weights, not two).
 */
export function removePriorCorrection(model: tf.LayersModel, classes: string[], recorded: Record<string, number>): void {
  const shift = classes.map((c) => recorded[c]);
  if (shift.some((v) => typeof v !== 'number' || !Number.isFinite(v)))
    throw new Error(`the recorded prior correction (${Object.keys(recorded).join(', ')}) does not match the classes ${classes.join(', ')}`);
  shiftOutputBias(model, shift, -1);
}

/** The correction a bundle's manifest records (`training.priorCorrection`), or null. */
export function recordedPriorCorrection(training: Record<string, unknown> | null | undefined): Record<string, number> | null {
  const value = training?.priorCorrection;
  return value && typeof value === 'object' ? (value as Record<string, number>) : null;
}

function outputLayer(model: tf.LayersModel): tf.layers.Layer {
  const layer = model.layers.find((l) => l.name === OUTPUT_LAYER);
  if (!layer || layer.getWeights().length < 2) throw new Error(`the model has no output layer '${OUTPUT_LAYER}' with a bias to correct`);
  return layer;
}

function outputUnits(model: tf.LayersModel): number {
  return outputLayer(model).getWeights()[1].shape[0] as number;
}

/** bias += sign·shift, per class; one sigmoid unit (two classes) takes the second class's shift. */
function shiftOutputBias(model: tf.LayersModel, shift: number[], sign: 1 | -1): void {
  const layer = outputLayer(model);
  const [kernel, bias] = layer.getWeights();
  const units = bias.shape[0] as number;
  if (units !== shift.length && !(units === 1 && shift.length === 2)) throw new Error(`the output layer has ${units} units for ${shift.length} classes`);
  const old = bias.dataSync();
  const next = tf.tensor1d(units === 1 ? [old[0] + sign * shift[1]] : Array.from(old, (b, c) => b + sign * shift[c]));
  layer.setWeights([kernel, next]);
  next.dispose();
}

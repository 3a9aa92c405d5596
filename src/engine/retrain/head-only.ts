// Head-only retraining: the head layers of the model (batch norm, dense, dropout, output) rebuilt on
// a feature input, trained on cached backbone features with Adamax and class weights, then put back on
// the unchanged backbone.
import * as tf from '@tensorflow/tfjs';
import type { LoadedBundle } from '../bundle.js';
import { outputUnits } from '../models/head.js';
import { buildModel, type ModelSpec } from '../models/spec.js';
import { classWeights } from '../train/dataset.js';
import { rng } from '../../core/random.js';
import { applyPriorCorrection, recordedPriorCorrection, removePriorCorrection } from '../train/prior-correction.js';
import { copyMatchingWeights } from '../train/init-from.js';

const HEAD_AFTER_POOL = ['head_bn', 'head_dense', 'head_dropout'];

// The head's layer classes; their getConfig() output (initialisers and regularisers as config objects)
// is what their constructors accept.
const FACTORIES: Record<string, (cfg: never) => tf.layers.Layer> = {
  BatchNormalization: tf.layers.batchNormalization,
  Dense: tf.layers.dense,
  Dropout: tf.layers.dropout,
};

function clone(src: tf.layers.Layer): tf.layers.Layer {
  const make = FACTORIES[src.getClassName()];
  if (!make) throw new Error(`head layer ${src.name} (${src.getClassName()}) cannot be rebuilt for head-only retraining`);
  return make(src.getConfig() as never);
}

function layerOrNull(model: tf.LayersModel, name: string): tf.layers.Layer | null {
  try {
    return model.getLayer(name);
  } catch {
    return null;
  }
}

/** The model's head after pooling, on an input of k features; the output layer is new when the classes change. */
export function headModel(bundle: LoadedBundle, k: number, classes: string[], seed: number): tf.LayersModel {
  const input = tf.input({ shape: [k], name: 'features' });
  let x: tf.SymbolicTensor = input;
  const copies: Array<[tf.layers.Layer, tf.layers.Layer]> = [];
  for (const name of HEAD_AFTER_POOL) {
    const src = layerOrNull(bundle.model, name);
    if (!src) continue;
    const layer = clone(src);
    x = layer.apply(x) as tf.SymbolicTensor;
    copies.push([src, layer]);
  }
  const sameClasses = JSON.stringify(classes) === JSON.stringify(bundle.manifest.spec.classes);
  const src = bundle.model.getLayer('predictions');
  const out = sameClasses ? clone(src) : tf.layers.dense({ ...outputUnits(classes.length), kernelInitializer: tf.initializers.glorotUniform({ seed }), name: 'predictions' });
  const y = out.apply(x) as tf.SymbolicTensor;
  if (sameClasses) copies.push([src, out]);
  const model = tf.model({ inputs: input, outputs: y, name: 'head' });
  for (const [from, to] of copies) to.setWeights(from.getWeights());
  // The bundle's own correction comes out; trainHead ends with one for the new labels' class weights.
  const recorded = sameClasses ? recordedPriorCorrection(bundle.manifest.training) : null;
  if (recorded) removePriorCorrection(model, classes, recorded);
  return model;
}

export interface HeadTrainOptions {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  onEpoch(epoch: number, loss: number, accuracy: number): Promise<void>;
}

/**
 * Trains the head on features (rows) with labels, then divides the class weights back out of its output
 * (as `train --prior-correction` does); returns the per-epoch curve and the correction (per class index).
 */
export async function trainHead(
  head: tf.LayersModel,
  features: Float32Array,
  k: number,
  labels: number[],
  classes: number,
  o: HeadTrainOptions,
): Promise<{ curve: Array<{ epoch: number; loss: number; accuracy: number }>; priorCorrection: Record<string, number> | null }> {
  const binary = classes === 2;
  const n = labels.length;
  const x = tf.tensor2d(features, [n, k]);
  const y = binary ? tf.tensor2d(labels, [n, 1]) : tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
  const weights = classWeights(labels, classes);
  head.compile({ optimizer: tf.train.adamax(o.lr), loss: binary ? 'binaryCrossentropy' : 'categoricalCrossentropy', metrics: ['accuracy'] });
  const curve: Array<{ epoch: number; loss: number; accuracy: number }> = [];
  const savedRandom = Math.random;
  Math.random = rng(o.seed); // fit shuffles with Math.random: seeded, the run repeats
  try {
    await head.fit(x, y, {
      epochs: o.epochs,
      batchSize: o.batch,
      shuffle: true,
      verbose: 0,
      classWeight: Object.fromEntries(weights.map((w, i) => [i, w])),
      callbacks: {
        onEpochEnd: async (epoch, logs) => {
          const point = { epoch: epoch + 1, loss: Number(logs?.loss ?? NaN), accuracy: Number(logs?.acc ?? logs?.accuracy ?? NaN) };
          curve.push(point);
          await o.onEpoch(point.epoch, point.loss, point.accuracy);
        },
      },
    });
  } finally {
    Math.random = savedRandom;
    tf.dispose([x, y]);
  }
  const priorCorrection = applyPriorCorrection(
    head,
    Array.from({ length: classes }, (_, i) => String(i)),
    weights,
  );
  return { curve, priorCorrection };
}

/** The full model again: the bundle's backbone with the trained head. */
export function withHead(bundle: LoadedBundle, head: tf.LayersModel, spec: ModelSpec, seed: number): tf.LayersModel {
  const model = buildModel(spec, seed);
  copyMatchingWeights(bundle.model, model);
  for (const layer of head.layers) {
    if (!layer.getWeights().length) continue;
    model.getLayer(layer.name).setWeights(layer.getWeights());
  }
  return model;
}

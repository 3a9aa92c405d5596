// One micro-batch's loss and gradients: class-weighted cross-entropy plus the model's regularisation
// losses (and the head's L1 activity term, which tfjs-layers cannot add itself). The training loop and
// the gradient workers of data-parallel training run exactly this.
import * as tf from '@tensorflow/tfjs';
import type { HeadSpec } from '../models/head.js';
import { cutTensor } from '../explain/layer-split.js';
import { outsideShare, type CellPenalty } from './mask-penalty.js';

export interface TrainingGraph {
  model: tf.LayersModel;
  /** The model, or the model with the hidden head layer as a second output when its L1 activity term counts. */
  graph: tf.LayersModel;
  trainable: tf.Variable[];
  numClasses: number;
  /** L1 factor on the hidden head layer's activity; 0 when there is none. */
  activityL1: number;
  /** `graph` with the localisation penalty's feature map as its last output, built on first use. */
  withMap?: tf.LayersModel;
}

export function trainingGraph(model: tf.LayersModel, head: HeadSpec, numClasses: number): TrainingGraph {
  const activityL1 = head.denseUnits > 0 && head.l1 > 0 ? head.l1 : 0;
  const graph = activityL1 ? tf.model({ inputs: model.inputs, outputs: [model.outputs[0], model.getLayer('head_dense').output as tf.SymbolicTensor] }) : model;
  return { model, graph, trainable: model.trainableWeights.map((w) => w.read() as tf.Variable), numClasses, activityL1 };
}

export interface MicroBatch {
  /** n × size × size × 3 floats in [0,1]. */
  x: Float32Array;
  size: number;
  labels: number[];
  /** Class weight of each image. */
  weights: number[];
  /** This micro-batch's share of the whole batch (its images / the batch's images). */
  share: number;
  /** The localisation penalty's cell masks and weight (mask-penalty.ts), when the run has one. */
  cells?: CellPenalty;
}

export interface MicroBatchResult {
  /** The weighted loss times `share`: the micro-batch losses of a batch add up to the batch mean. */
  loss: number;
  /** Correctly classified images. */
  hits: number;
  /** One gradient per trainable variable, in order; null where the variable has none. */
  grads: Array<tf.Tensor | null>;
}

export async function microBatchGradients(g: TrainingGraph, mb: MicroBatch): Promise<MicroBatchResult> {
  const n = mb.labels.length;
  const binary = g.numClasses === 2;
  const xs = tf.tensor4d(mb.x, [n, mb.size, mb.size, 3]);
  const w = tf.tensor1d(mb.weights);
  let hits: tf.Tensor | null = null;
  const graph = mb.cells ? graphWithMap(g, mb.cells.side) : g.graph;
  const { value, grads } = tf.variableGrads(() => {
    const outs = graph.apply(xs, { training: true }) as tf.Tensor | tf.Tensor[];
    const probs = Array.isArray(outs) ? outs[0] : outs;
    let ce: tf.Tensor;
    if (binary) {
      const p = tf.clipByValue(tf.squeeze(probs, [1]), 1e-7, 1 - 1e-7);
      const t = tf.tensor1d(mb.labels, 'float32');
      ce = tf.neg(tf.add(tf.mul(t, tf.log(p)), tf.mul(tf.sub(1, t), tf.log(tf.sub(1, p)))));
      hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.greater(p, 0.5), tf.cast(t, 'bool')), 'float32')));
    } else {
      const onehot = tf.oneHot(tf.tensor1d(mb.labels, 'int32'), g.numClasses);
      ce = tf.neg(tf.sum(tf.mul(onehot, tf.log(tf.clipByValue(probs, 1e-7, 1))), -1));
      hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), tf.tensor1d(mb.labels, 'int32')), 'float32')));
    }
    let loss = tf.mean(tf.mul(ce, w));
    for (const r of g.model.calculateLosses()) loss = tf.add(loss, r);
    if (g.activityL1) loss = tf.add(loss, tf.mul(g.activityL1 / n, tf.sum(tf.abs((outs as tf.Tensor[])[1]))));
    if (mb.cells) {
      const { outside, side, weight } = mb.cells;
      const share = outsideShare((outs as tf.Tensor[]).at(-1)!, tf.tensor3d(outside, [n, side, side]));
      loss = tf.add(loss, tf.mul(weight / n, tf.sum(share)));
    }
    return tf.mul(loss, mb.share) as tf.Scalar;
  }, g.trainable);
  const loss = (await value.data())[0];
  const hitCount = (await hits!.data())[0];
  tf.dispose([value, hits!, xs, w]);
  return { loss, hits: hitCount, grads: g.trainable.map((v) => grads[v.name] ?? null) };
}

/** The training graph with the map at side × side (the penalty's) as its last output. */
function graphWithMap(g: TrainingGraph, side: number): tf.LayersModel {
  if (!g.withMap) {
    const outputs = [...(g.graph.outputs as tf.SymbolicTensor[]), cutTensor(g.model, side).tensor];
    g.withMap = tf.model({ inputs: g.model.inputs, outputs });
  }
  return g.withMap;
}

/** Adds b into the running sums a (disposing what it replaces); a null slot takes b as it is. */
export function accumulate(a: Array<tf.Tensor | null>, b: Array<tf.Tensor | null>): void {
  b.forEach((gi, i) => {
    if (!gi) return;
    const prev = a[i];
    a[i] = prev ? tf.add(prev, gi) : gi;
    if (prev) tf.dispose([prev, gi]);
  });
}

// One micro-batch's loss and weight gradients on ONNX Runtime: the exported training graph (forward,
// loss and backward in one session run), fed the current weights. The same loss as the tfjs trainer's
// microBatchGradients, batch norm frozen on its moving statistics.
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import seedrandom from 'seedrandom';
import type { HeadSpec } from '../models/head.js';
import type { MicroBatch } from '../train/micro-batch.js';
import { exportToOnnx } from './export.js';
import {
  type BatchStats,
  type DropoutMask,
  ONNX_ACTIVITY_SCALE,
  ONNX_CELL_OUTSIDE,
  ONNX_MASK_PENALTY_SCALE,
  ONNX_INPUT,
  ONNX_LOSS,
  ONNX_OUTPUT,
  ONNX_REG_SCALE,
  ONNX_SAMPLE_WEIGHT,
  ONNX_TARGET,
  weightGradName,
  weightInputName,
} from './export-types.js';
import { sessionOptions, type OrtSessionOptions } from './ort-runtime.js';

export interface OrtGradients {
  /** The weighted loss times the micro-batch's share, as microBatchGradients gives it. */
  loss: number;
  hits: number;
  /** One per trainable variable, in order, in tfjs's shapes. */
  grads: Float32Array[];
  /** Batch-statistics mode: each batch norm's mean and variance over the micro-batch, by layer name. */
  batchStats: Map<string, { mean: Float32Array; variance: Float32Array }>;
}

export interface OrtTrainingOptions extends OrtSessionOptions {
  /** frozen: batch norm on its moving statistics; batch: on each micro-batch's, moving them as tfjs does. */
  batchNorm: 'frozen' | 'batch';
  /** Dropout (and stochastic depth) as in training, masks drawn as tfjs draws them; false: none. */
  dropout: boolean;
  /** The localisation penalty's map side (train/mask-penalty.ts); absent: none. Micro-batches then carry `cells`. */
  maskPenaltySide?: number;
}

export class OrtTrainingStep {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly shapes: number[][],
    private readonly numClasses: number,
    private readonly activityL1: number,
    private readonly scalars: Set<string>,
    private readonly masks: DropoutMask[],
    private readonly stats: BatchStats[],
    private readonly penaltySide: number,
  ) {}

  /** Exports the model's training graph for `trainable` (the model's trainable weights, in order). */
  static async create(model: tf.LayersModel, trainable: tf.LayerVariable[], head: HeadSpec, numClasses: number, o: OrtTrainingOptions): Promise<OrtTrainingStep> {
    const activityL1 = head.denseUnits > 0 && head.l1 > 0 ? head.l1 : 0;
    const { bytes, dropoutMasks, batchStats } = exportToOnnx(model, {
      training: { trainable, batchNorm: o.batchNorm, dropout: o.dropout, activityLayer: activityL1 ? 'head_dense' : undefined, maskPenaltySide: o.maskPenaltySide },
    });
    const session = await ort.InferenceSession.create(bytes, sessionOptions(o));
    return new OrtTrainingStep(
      session,
      trainable.map((v) => v.shape as number[]),
      numClasses,
      activityL1,
      new Set(session.inputNames),
      dropoutMasks,
      batchStats,
      o.maskPenaltySide ?? 0,
    );
  }

  /** The micro-batch's loss, hits and gradients at these weights (one Float32Array per trainable variable). */
  async run(weights: Float32Array[], mb: MicroBatch): Promise<OrtGradients> {
    const n = mb.labels.length;
    const units = this.numClasses === 2 ? 1 : this.numClasses;
    const target = new Float32Array(n * units);
    mb.labels.forEach((c, i) => (units === 1 ? (target[i] = c) : (target[i * units + c] = 1)));
    const feeds: Record<string, ort.Tensor> = {
      // A copy where the images are a view into a larger batch: ONNX Runtime would read from the buffer's start.
      [ONNX_INPUT]: new ort.Tensor('float32', mb.x.byteOffset || mb.x.byteLength !== mb.x.buffer.byteLength ? mb.x.slice() : mb.x, [n, mb.size, mb.size, 3]),
      [ONNX_TARGET]: new ort.Tensor('float32', target, [n, units]),
      [ONNX_SAMPLE_WEIGHT]: new ort.Tensor(
        'float32',
        Float32Array.from(mb.weights, (w) => (w * mb.share) / n),
        [n],
      ),
    };
    if (this.scalars.has(ONNX_REG_SCALE)) feeds[ONNX_REG_SCALE] = new ort.Tensor('float32', Float32Array.of(mb.share), []);
    if (this.scalars.has(ONNX_ACTIVITY_SCALE)) feeds[ONNX_ACTIVITY_SCALE] = new ort.Tensor('float32', Float32Array.of((this.activityL1 * mb.share) / n), []);
    if (this.penaltySide) {
      const side = this.penaltySide;
      // A micro-batch without masks: outside 0 everywhere, so the penalty and its gradient are 0.
      feeds[ONNX_CELL_OUTSIDE] = new ort.Tensor('float32', mb.cells?.outside ?? new Float32Array(n * side * side), [n, 1, side, side]);
      feeds[ONNX_MASK_PENALTY_SCALE] = new ort.Tensor('float32', Float32Array.of(((mb.cells?.weight ?? 0) * mb.share) / n), []);
    }
    for (const m of this.masks) feeds[m.input] = new ort.Tensor('float32', dropoutMask(n, m), [n, ...m.shape]);
    weights.forEach((w, k) => (feeds[weightInputName(k)] = new ort.Tensor('float32', w, this.shapes[k])));
    const fetches = [ONNX_LOSS, ONNX_OUTPUT, ...this.shapes.map((_, k) => weightGradName(k)), ...this.stats.flatMap((s) => [s.mean, s.variance])];
    const result = await this.session.run(feeds, fetches);
    const probs = result[ONNX_OUTPUT].data as Float32Array;
    const copy = (name: string) => new Float32Array(result[name].data as Float32Array);
    const out: OrtGradients = {
      loss: (result[ONNX_LOSS].data as Float32Array)[0],
      hits: hitsOf(probs, mb.labels, units),
      grads: this.shapes.map((_, k) => copy(weightGradName(k))),
      batchStats: new Map(this.stats.map((s) => [s.layer, { mean: copy(s.mean), variance: copy(s.variance) }])),
    };
    for (const t of [...Object.values(result), ...Object.values(feeds)]) t.dispose();
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Moves each batch norm's moving statistics towards the micro-batch's by the layer's momentum, as tfjs-layers does in training. */
export function moveBatchNormStatistics(model: tf.LayersModel, stats: OrtGradients['batchStats']): void {
  for (const [name, batch] of stats) {
    const layer = model.getLayer(name);
    const momentum = (layer as unknown as { momentum: number }).momentum;
    for (const [suffix, values] of [['moving_mean', batch.mean] as const, ['moving_variance', batch.variance] as const]) {
      const v = layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`))!;
      const old = v.read().dataSync() as Float32Array;
      tf.tidy(
        () =>
          void v.write(
            tf.tensor(
              Float32Array.from(old, (o, i) => o - (o - values[i]) * (1 - momentum)),
              v.shape as number[],
            ),
          ),
      );
    }
  }
}

/**
 * A dropout mask drawn as tfjs's dropout draws it, so that both engines drop the same values from the same
 * seed: one Math.random() seeds an alea generator, and a value is kept where floor(u + keep) is 1 in float32.
 */
function dropoutMask(n: number, m: DropoutMask): Float32Array {
  const random = seedrandom.alea(Math.random().toString());
  const keepProb = Math.fround(1 - m.rate);
  return Float32Array.from({ length: n * m.shape.reduce((a, b) => a * b, 1) }, () => (Math.floor(Math.fround(Math.fround(random()) + keepProb)) >= 1 ? 1 / keepProb : 0));
}

/** Correct predictions: the top class, or for one sigmoid unit, p > 0.5 for class 1. */
function hitsOf(probs: Float32Array, labels: number[], units: number): number {
  let hits = 0;
  labels.forEach((c, i) => {
    if (units === 1) hits += Number(probs[i] > 0.5 === (c === 1));
    else {
      const row = probs.subarray(i * units, (i + 1) * units);
      hits += Number(row.indexOf(Math.max(...row)) === c);
    }
  });
  return hits;
}

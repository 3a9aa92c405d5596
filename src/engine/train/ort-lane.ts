// Training steps on ONNX Runtime (--engine ort, or auto where the model exports): the model's training
// graph computes each micro-batch's loss and gradients with every core, the tfjs model keeps the weights,
// the optimizer and the checkpoints, so that resume, averaging and evaluation are those of the tfjs path.
import * as tf from '@tensorflow/tfjs';
import { ExportError } from '../onnx/export-types.js';
import { moveBatchNormStatistics, OrtTrainingStep } from '../onnx/ort-training.js';
import { accumulate, type MicroBatch } from './micro-batch.js';
import { penaltySide } from './mask-penalty.js';
import type { Run } from './run-types.js';

/** Starts the ONNX Runtime lane unless the run asks for tfjs; with auto, a model that does not export trains on tfjs. */
export async function startOrtLane(run: Run): Promise<void> {
  const { o } = run;
  if (o.engine === 'tfjs') return;
  const threads = run.hooks.ortSettings?.threads ?? 0;
  try {
    // Frozen batch norm: built after the statistics were re-estimated, which the graph holds as constants.
    run.ort = await OrtTrainingStep.create(run.model, run.model.trainableWeights, o.head, run.classes.length, {
      threads,
      provider: 'cpu',
      dropout: true,
      batchNorm: o.batchNorm,
      maskPenaltySide: o.maskPenalty ? penaltySide(o.imgSize) : undefined,
    });
  } catch (err) {
    if (o.engine === 'ort' || !(err instanceof ExportError)) throw new Error(`cannot train on ONNX Runtime: ${(err as Error).message}`);
    run.say(`training on TensorFlow.js: the model has no ONNX training graph (${err.message})`);
    return;
  }
  if (o.workers > 1) run.say(`--workers ${o.workers} left aside: ONNX Runtime uses every core in one session`);
  run.say(`training steps on ONNX Runtime (${threads ? `${threads} thread(s)` : 'every core'}, batch norm ${o.batchNorm})`);
}

/** The batch's summed gradients, loss and hits, micro-batch after micro-batch on ONNX Runtime. */
export function ortBatchGradients(run: Run, micro: MicroBatch[]): Promise<BatchGradients> {
  return stepGradients(run.ort!, run.model, run.graph.trainable, micro);
}

export interface BatchGradients {
  grads: Array<tf.Tensor | null>;
  lossSum: number;
  correct: number;
}

/** The same for a step outside a training run (bench:train-step). */
export async function stepGradients(ort: OrtTrainingStep, model: tf.LayersModel, trainable: tf.Variable[], micro: MicroBatch[]): Promise<BatchGradients> {
  // Copies: a view into the wasm heap could move under ONNX Runtime's asynchronous run.
  const weights = trainable.map((v) => (v.dataSync() as Float32Array).slice());
  const grads: Array<tf.Tensor | null> = trainable.map(() => null);
  let lossSum = 0;
  let correct = 0;
  for (const mb of micro) {
    const r = await ort.run(weights, mb);
    lossSum += r.loss;
    correct += r.hits;
    // In batch mode tfjs moves the statistics in each micro-batch's forward pass: so here, in order.
    moveBatchNormStatistics(model, r.batchStats);
    accumulate(
      grads,
      r.grads.map((g, i) => tf.tensor(g, trainable[i].shape)),
    );
  }
  return { grads, lossSum, correct };
}

// A training run's epochs: class-weighted steps (micro-batches on this thread and the gradient workers),
// then validation, early stopping and the learning-rate schedule at each epoch's end, with checkpoints
// every few minutes and after every epoch. Deterministic with the seed, across resumes too.
import * as tf from '@tensorflow/tfjs';
import { computeMetrics } from '../metrics.js';
import { CancelledError } from '../protocol.js';
import { readWeights, saveCheckpoint, writeWeights, type TrainState } from './checkpoint.js';
import { rng, shuffle } from '../../core/random.js';
import { accumulate, microBatchGradients, type MicroBatch } from './micro-batch.js';
import { makeBatch, type OutsideGrids } from './run-data.js';
import { penaltySide } from './mask-penalty.js';
import { ortBatchGradients } from './ort-lane.js';
import { lossOf, openEval, predictProbs } from './run-eval.js';
import type { Run } from './run-types.js';
import { runningMean } from './weight-average.js';

/** Saves the run; `next` overrides the position (a mid-epoch save resumes at the following step). */
export async function snapshot(run: Run, next: Partial<TrainState> = {}): Promise<void> {
  const state = { ...run.state, ...next, elapsedMs: run.state.elapsedMs + (Date.now() - run.sessionStart) };
  await saveCheckpoint(run.ckptDir, { state, weights: readWeights(run.model), best: run.best, average: run.average, optimizer: run.optimizer.getState() });
}

/** Trains until the epochs are done or early stopping; a cancel (or --max-steps) saves and rethrows. */
export async function runEpochs(run: Run): Promise<void> {
  run.sessionStart = Date.now();
  run.lastSave = Date.now();
  run.totalSteps = run.state.epoch * run.stepsPerEpoch + run.state.step;
  try {
    while (!run.state.done && run.state.epoch < run.o.epochs) {
      const epochStart = Date.now();
      const order = shuffle(run.trainIdx, rng(run.o.seed * 7919 + run.state.epoch));
      for (; run.state.step < run.stepsPerEpoch; run.state.step++) await trainStep(run, order);
      await endEpoch(run, epochStart);
    }
    run.state.done = true;
  } catch (err) {
    // Ctrl-C, a cancel from the app or --max-steps: keep what was done, then stop.
    if (err instanceof CancelledError) await snapshot(run);
    throw err;
  } finally {
    await Promise.all([...run.helpers.map((h) => h.close()), run.ort?.dispose()]);
    if (!run.state.done) {
      run.model.dispose();
      run.optimizer.dispose();
    }
  }
}

/** The learning rate of step `stepNo`: cosine or constant, after a linear warm-up. A fresh Adamax moves
 *  every weight by about the learning rate at its first steps, a shock to a model it fine-tunes (--init). */
function scheduleLearningRate(run: Run, stepNo: number): void {
  const { o, optimizer } = run;
  if (o.lrSchedule === 'cosine') optimizer.learningRate = (o.lr * (1 + Math.cos((Math.PI * stepNo) / (o.epochs * run.stepsPerEpoch)))) / 2;
  if (stepNo < o.warmupSteps) optimizer.learningRate = (o.lr * (stepNo + 1)) / (o.warmupSteps + 1);
  else if (stepNo === o.warmupSteps && o.warmupSteps > 0 && o.lrSchedule !== 'cosine') optimizer.learningRate = o.lr;
}

/** The batch as micro-batches: micro-batch k runs on worker k mod (helpers + 1); 0 is this thread. */
function microBatches(run: Run, batchIdx: number[], x: Float32Array, outside: OutsideGrids | null): MicroBatch[] {
  const { o, cache } = run;
  const micro: MicroBatch[] = [];
  for (let m = 0; m < batchIdx.length; m += o.microBatch) {
    const part = batchIdx.slice(m, m + o.microBatch);
    const y = part.map((i) => run.labels[i]);
    const mb: MicroBatch = {
      x: x.subarray(m * cache.stride, (m + part.length) * cache.stride),
      size: o.imgSize,
      labels: y,
      weights: y.map((c) => run.weightsPerClass[c]),
      share: part.length / batchIdx.length,
    };
    if (outside) {
      const cells = outside.side ** 2;
      mb.cells = { outside: outside.grid.slice(m * cells, (m + part.length) * cells), side: outside.side, weight: o.maskPenalty };
    }
    micro.push(mb);
  }
  return micro;
}

/** The batch's summed gradients, loss and hits: helpers start first and work while this thread computes its share. */
async function batchGradients(run: Run, micro: MicroBatch[]): Promise<{ grads: Array<tf.Tensor | null>; lossSum: number; correct: number }> {
  const { o, state, helpers } = run;
  const trainable = run.graph.trainable;
  const grads: Array<tf.Tensor | null> = trainable.map(() => null);
  let lossSum = 0;
  let correct = 0;
  const lanes = helpers.length + 1;
  const weightsNow = helpers.length && micro.length > 1 ? trainable.map((v) => (v.dataSync() as Float32Array).slice()) : null;
  const remote = micro.flatMap((mb, k) =>
    k % lanes === 0 ? [] : [helpers[(k % lanes) - 1].compute({ ...mb, x: mb.x.slice() }, o.seed * 15485863 + state.epoch * 7727 + state.step + 1000003 * k, k < lanes ? weightsNow : null)],
  );
  for (let k = 0; k < micro.length; k += lanes) {
    const r = await microBatchGradients(run.graph, micro[k]);
    lossSum += r.loss;
    correct += r.hits;
    accumulate(grads, r.grads);
  }
  for (const r of await Promise.all(remote)) {
    lossSum += r.loss;
    correct += r.hits;
    accumulate(
      grads,
      r.grads.map((g, i) => (g ? tf.tensor(g, trainable[i].shape) : null)),
    );
  }
  return { grads, lossSum, correct };
}

async function trainStep(run: Run, order: number[]): Promise<void> {
  const { o, state, optimizer, stepsPerEpoch } = run;
  await run.hooks.checkpoint();
  if (o.maxSteps !== null && run.totalSteps >= o.maxSteps) {
    run.stoppedBy = 'max-steps';
    throw new CancelledError();
  }
  const t0 = performance.now();
  scheduleLearningRate(run, state.epoch * stepsPerEpoch + state.step);
  const batchIdx = order.slice(state.step * o.batch, (state.step + 1) * o.batch);
  const random = rng(o.seed * 104729 + state.epoch * 10007 + state.step);
  // tfjs draws dropout masks from Math.random when no seed is given (a fixed seed would repeat the
  // same mask every step); seeding Math.random per step makes runs and resumed runs repeat exactly.
  Math.random = rng(o.seed * 15485863 + state.epoch * 7727 + state.step);
  const outside = o.maskPenalty ? { side: penaltySide(o.imgSize), grid: new Float32Array(batchIdx.length * penaltySide(o.imgSize) ** 2) } : null;
  const micro = microBatches(run, batchIdx, makeBatch(run.cache, batchIdx, o.augment, random, run.backgrounds, outside), outside);
  const { grads, lossSum, correct } = await (run.ort ? ortBatchGradients(run, micro) : batchGradients(run, micro));
  optimizer.apply(run.graph.trainable, grads);
  tf.dispose(grads.filter((t): t is tf.Tensor => !!t));
  if (!Number.isFinite(lossSum)) throw new Error(`the loss became ${lossSum} at epoch ${state.epoch + 1}, step ${state.step + 1}: lower --lr`);
  run.rate.images += batchIdx.length;
  run.rate.ms += performance.now() - t0;
  state.epochSums.loss += lossSum * batchIdx.length;
  state.epochSums.correct += correct;
  state.epochSums.seen += batchIdx.length;
  run.totalSteps++;
  reportStep(run);
  if (Date.now() - run.lastSave > o.checkpointMinutes * 60_000 && state.step + 1 < stepsPerEpoch) {
    await snapshot(run, { step: state.step + 1 });
    run.lastSave = Date.now();
  }
}

function reportStep(run: Run): void {
  const { o, state } = run;
  const ips = run.rate.images / (run.rate.ms / 1000);
  const remainingImages = (run.stepsPerEpoch - state.step - 1) * o.batch + (o.epochs - state.epoch - 1) * run.trainIdx.length;
  run.hooks.progress({
    phase: 'training',
    epoch: state.epoch + 1,
    epochs: o.epochs,
    step: state.step + 1,
    steps: run.stepsPerEpoch,
    loss: state.epochSums.loss / state.epochSums.seen,
    accuracy: state.epochSums.correct / state.epochSums.seen,
    imagesPerSecond: ips,
    etaSeconds: remainingImages / ips,
    learningRate: run.optimizer.learningRate,
    message: '',
  });
}

/** Validation loss and accuracy. With averaging, the mean including this epoch is what gets validated
 *  (and may become the best); it is kept only once validation is through, so a stop in between repeats
 *  this epoch's end exactly. */
async function validate(run: Run): Promise<{ valLoss: number | null; valAccuracy: number | null; mean: Float32Array[] | null; count: number }> {
  const { o, state } = run;
  const averaging = o.averageFrom > 0 && state.epoch + 1 >= o.averageFrom;
  const own = averaging ? readWeights(run.model) : null;
  const count = (state.average?.count ?? 0) + 1;
  const mean = own ? runningMean(run.average, own, count - 1) : null;
  let valLoss: number | null = null;
  let valAccuracy: number | null = null;
  if (mean) writeWeights(run.model, mean, tf);
  try {
    if (run.valIdx.length) {
      const fwd = await openEval(run);
      const probs = await predictProbs(run, run.valIdx, false, fwd).finally(() => fwd.dispose());
      valLoss = lossOf(run, probs, run.valIdx);
      valAccuracy = computeMetrics(
        probs,
        run.valIdx.map((i) => run.labels[i]),
        run.classes,
      ).accuracy;
    }
  } finally {
    if (own) writeWeights(run.model, own, tf);
  }
  return { valLoss, valAccuracy, mean, count };
}

/** Keeps the best weights; counts stale epochs, halving the rate on a plateau and stopping after `patience`. */
function earlyStopping(run: Run, valLoss: number | null, mean: Float32Array[] | null): void {
  const { o, state } = run;
  if (valLoss === null) return;
  if (state.bestValLoss === null || valLoss < state.bestValLoss - 1e-4) {
    state.bestValLoss = valLoss;
    state.bestEpoch = state.epoch + 1;
    state.staleEpochs = 0;
    run.best = mean ?? readWeights(run.model);
    return;
  }
  state.staleEpochs++;
  if (o.lrSchedule === 'plateau' && state.staleEpochs % 2 === 0) run.optimizer.learningRate /= 2;
  if (state.staleEpochs >= o.patience) {
    state.done = true;
    run.stoppedBy = 'early-stopping';
  }
}

async function endEpoch(run: Run, epochStart: number): Promise<void> {
  const { o, state, optimizer, stepsPerEpoch } = run;
  const evaluating = { phase: 'evaluating' as const, epochs: o.epochs, step: stepsPerEpoch, steps: stepsPerEpoch, imagesPerSecond: null, etaSeconds: null };
  run.hooks.progress({ ...evaluating, epoch: state.epoch + 1, loss: null, accuracy: null, learningRate: optimizer.learningRate, message: 'validating' });
  const { valLoss, valAccuracy, mean, count } = await validate(run);
  if (mean) {
    run.average = mean;
    state.average = { from: o.averageFrom, count };
  }
  const seen = Math.max(1, state.epochSums.seen);
  const record = {
    epoch: state.epoch + 1,
    loss: state.epochSums.loss / seen,
    accuracy: state.epochSums.correct / seen,
    valLoss,
    valAccuracy,
    ...(mean ? { averagedEpochs: count } : {}),
    learningRate: optimizer.learningRate,
    seconds: (Date.now() - epochStart) / 1000,
  };
  state.history.push(record);
  earlyStopping(run, valLoss, mean);
  state.learningRate = optimizer.learningRate;
  state.epoch++;
  state.step = 0;
  state.epochSums = { loss: 0, correct: 0, seen: 0 };
  const message = `epoch ${state.epoch}: val loss ${valLoss?.toFixed(4) ?? '-'}, val accuracy ${valAccuracy?.toFixed(4) ?? '-'}`;
  run.hooks.progress({ ...evaluating, epoch: state.epoch, loss: record.loss, accuracy: record.accuracy, learningRate: optimizer.learningRate, message });
  await snapshot(run);
  run.lastSave = Date.now();
}

// The training loop of the paper's protocol: class-weighted cross-entropy, Adamax, early stopping on
// validation loss with the best weights restored, light augmentation, deterministic with the seed.
// Checkpoints go to <out>/checkpoint every N minutes and after every epoch; --resume continues from them.
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { saveBundle, type Manifest } from '../bundle.js';
import { computeMetrics, heldOutIntervals, type HeldOutIntervals, type Metrics } from '../metrics.js';
import { buildModel, defaultSpec, type ModelSpec } from '../models/spec.js';
import { toClassProbabilities } from '../models/head.js';
import { CancelledError } from '../protocol.js';
import { Adamax } from './adamax.js';
import { evalForward, type EvalForward } from './eval-forward.js';
import type { OrtSessionOptions } from '../onnx/ort-runtime.js';
import { freezeBatchNorm, recalibrateBatchNorm, setBatchNormMomentum } from './batch-norm.js';
import { colorJitter, dihedral, pickTransform } from './augment.js';
import { loadCheckpoint, readWeights, saveCheckpoint, writeWeights, type EpochRecord, type TrainState } from './checkpoint.js';
import { classWeights, fileNumber, makeSplit, readSplit, scanClassFolders, intervalRandom, unitOfFile, type ClassFolders, type Split } from './dataset.js';
import { rng, shuffle } from '../../core/random.js';
import { loadImages, type CachedImages } from './image-cache.js';
import { GradientWorker } from './gradient-workers.js';
import { applyPriorCorrection } from './prior-correction.js';
import { initFrom, type InitNote } from './init-from.js';
import { fitOodIndex, OOD_MIN_VAL } from '../ood/fit.js';
import type { OodIndex } from '../ood/knn.js';
import { runningMean } from './weight-average.js';
import { accumulate, microBatchGradients, trainingGraph, type MicroBatch } from './micro-batch.js';
import type { TrainOptions, TrainProgress } from './options.js';

export interface TrainHooks {
  progress(p: TrainProgress): void;
  /** Lets a cancel request in; throws CancelledError when the run should stop. */
  checkpoint(): Promise<void>;
  /** ONNX Runtime session settings for validation and evaluation (the engine's configured threads and provider); CPU, one thread per core, when absent. */
  ortSettings?: OrtSessionOptions;
}

export interface Evaluation {
  metrics: Metrics;
  /** The same images averaged over the eight flips and rotations. */
  tta: Metrics;
  /** Forward-pass time of the plain evaluation: the whole part, and per image. */
  msTotal: number;
  msPerImage: number;
  /** Where those forward passes ran. */
  runtime: EvalForward['runtime'];
  /** 95% intervals of the plain evaluation's accuracy and binary AUC, drawing the split's blocks. */
  intervals: HeldOutIntervals;
}

/** What the model said on a held-out part, for curves drawn later (predictions.json beside the bundle). */
export interface PartPredictions {
  /** The images, relative to the data folder (the split's order). */
  files: string[];
  labels: number[];
  probabilities: number[][];
}

export interface TrainResult {
  outDir: string;
  manifest: Manifest;
  stoppedBy: 'epochs' | 'early-stopping' | 'max-steps';
  val: Evaluation | null;
  test: Evaluation | null;
  history: EpochRecord[];
  seconds: number;
  parameters: number;
  predictions: { val: PartPredictions | null; test: PartPredictions | null };
}

/** Values of fingerprint keys added after the first checkpoints were written. */
const FINGERPRINT_DEFAULTS: Record<string, unknown> = { architecture: 'efficientnet', limitPerClass: null, bnMomentum: 0.99, batchNorm: 'batch' };

function fingerprint(o: TrainOptions, classes: string[]): Record<string, unknown> {
  return { dataDir: path.resolve(o.dataDir), classes, architecture: o.architecture, limitPerClass: o.limitPerClass, variant: o.variant, imgSize: o.imgSize, batch: o.batch, split: o.split, blockSize: o.blockSize, valSplit: o.valSplit, testSplit: o.testSplit, seed: o.seed, head: o.head, preprocessing: o.preprocessing, bnMomentum: o.bnMomentum, batchNorm: o.batchNorm };
}

/** The first n files of each class by file number: a smaller data set with the same block structure. */
function limitPerClass(data: ClassFolders, n: number): ClassFolders {
  const samples = data.classes.flatMap((_, label) =>
    data.samples
      .filter((s) => s.label === label)
      .sort((a, b) => (fileNumber(a.file) ?? Infinity) - (fileNumber(b.file) ?? Infinity) || (a.file < b.file ? -1 : 1))
      .slice(0, n),
  );
  return { ...data, samples };
}

/** Packs images idx into one float batch, augmented with `random` when given. */
function makeBatch(cache: CachedImages, idx: number[], opts: TrainOptions['augment'] | null, random: () => number): Float32Array {
  const { size, stride, pixels } = cache;
  const out = new Float32Array(idx.length * stride);
  idx.forEach((i, k) => {
    const src = pixels.subarray(i * stride, (i + 1) * stride);
    dihedral(src, out, k * stride, size, opts ? pickTransform(opts, random) : 0, 1 / 255);
    if (opts) colorJitter(out, k * stride, size * size, opts.colorJitter, random);
  });
  return out;
}

export async function train(o: TrainOptions, hooks: TrainHooks): Promise<TrainResult> {
  const systemRandom = Math.random;
  try {
    return await trainRun(o, hooks);
  } finally {
    Math.random = systemRandom;
  }
}

async function trainRun(o: TrainOptions, hooks: TrainHooks): Promise<TrainResult> {
  const ckptDir = path.join(o.outDir, 'checkpoint');
  const say = (message: string, extra: Partial<TrainProgress> = {}) =>
    hooks.progress({ phase: 'loading', epoch: 0, epochs: o.epochs, step: 0, steps: 0, loss: null, accuracy: null, imagesPerSecond: null, etaSeconds: null, learningRate: o.lr, message, ...extra });

  const scanned: ClassFolders = await scanClassFolders(o.dataDir, o.extensions);
  const data: ClassFolders = o.limitPerClass ? limitPerClass(scanned, o.limitPerClass) : scanned;
  const classes = data.classes;
  const labelOf = new Map(data.samples.map((s) => [s.file, s.label]));
  const negativeClass = o.negativeClass && classes.includes(o.negativeClass) ? o.negativeClass : null;

  // The split: from the checkpoint when resuming, so it cannot drift.
  const splitFile = path.join(o.outDir, 'split.json');
  let split: Split;
  if (o.resume && (await fs.stat(splitFile).catch(() => null))) {
    split = await readSplit(splitFile, data);
  } else if (o.split.startsWith('file:')) {
    split = await readSplit(o.split.slice(5), data);
  } else {
    split = makeSplit(data, { method: o.split as 'blocks' | 'stratified', valFraction: o.valSplit, testFraction: o.testSplit, seed: o.seed, blockSize: o.split === 'blocks' ? o.blockSize : 1 });
  }
  if (!split.train.length) throw new Error('the training part of the split is empty');
  await fs.mkdir(o.outDir, { recursive: true });
  await fs.writeFile(splitFile, JSON.stringify(split, null, 1));

  const files = [...split.train, ...split.val, ...split.test];
  say(`reading ${files.length} images at ${o.imgSize} px`);
  const cache = await loadImages(o.dataDir, files, o.imgSize, o.resize, { extensions: o.extensions, maxPixels: o.maxPixels, maxBytes: Number.MAX_SAFE_INTEGER }, (done, total) =>
    say(`reading images ${done}/${total}`, { step: done, steps: total }),
  );
  const trainIdx = split.train.map((_, i) => i);
  const valIdx = split.val.map((_, i) => split.train.length + i);
  const testIdx = split.test.map((_, i) => split.train.length + split.val.length + i);
  const labels = files.map((f) => labelOf.get(f)!);
  const weightsPerClass = classWeights(trainIdx.map((i) => labels[i]), classes.length);

  const spec: ModelSpec = defaultSpec(o.variant, classes, {
    architecture: o.architecture,
    variant: o.architecture === 'efficientnet' ? o.variant : o.architecture,
    inputSize: o.imgSize,
    preprocessing: o.preprocessing,
    head: o.head,
  });
  const model = buildModel(spec, o.seed);
  setBatchNormMomentum(model, o.bnMomentum);
  let initNote: InitNote | null = null;
  if (o.init.length) {
    initNote = await initFrom(o.init, model);
    const from = initNote.bundles.map((b) => b.id).join(' + ');
    say(`initialised ${initNote.layersCopied} layers from ${o.init.length > 1 ? `the mean of ${from}` : from}${initNote.layersNew.length ? `; new: ${initNote.layersNew.join(', ')}` : ''}`);
  }
  const graph = trainingGraph(model, o.head, classes.length);
  const trainable = graph.trainable;
  const optimizer = new Adamax(o.lr);
  let state: TrainState = {
    version: 1,
    fingerprint: fingerprint(o, classes),
    epoch: 0,
    step: 0,
    history: [],
    bestValLoss: null,
    bestEpoch: null,
    staleEpochs: 0,
    learningRate: o.lr,
    elapsedMs: 0,
    epochSums: { loss: 0, correct: 0, seen: 0 },
    done: false,
  };
  let best: Float32Array[] | null = null;
  let average: Float32Array[] | null = null;
  if (o.resume) {
    const snap = await loadCheckpoint(ckptDir, model.weights.map((w) => tf.util.sizeFromShape(w.shape as number[])), trainable.map((v) => v.size));
    if (!snap) throw new Error(`--resume: no checkpoint in ${ckptDir}`);
    // Checkpoints from before a key existed carry no value for it: they match when ours is its default.
    const stored = { ...FINGERPRINT_DEFAULTS, ...snap.state.fingerprint };
    const mismatch = Object.keys(state.fingerprint).filter((k) => JSON.stringify(state.fingerprint[k]) !== JSON.stringify(stored[k]));
    if (mismatch.length) throw new Error(`--resume: the checkpoint in ${ckptDir} was made with other ${mismatch.join(', ')}`);
    // Averaging does not change the path of the weights, so it may be switched on at a resume, but
    // only before its first epoch ends; once begun, the mean is of a fixed set of epochs.
    const averaged = snap.state.average;
    if (averaged && averaged.count > 0 && averaged.from !== o.averageFrom) throw new Error(`--resume: this run averages the weights from epoch ${averaged.from}; resume it with --average-from ${averaged.from}`);
    if (o.averageFrom > 0 && !snap.average && snap.state.epoch >= o.averageFrom) throw new Error(`--average-from ${o.averageFrom}: epoch ${o.averageFrom} of this run is already over; use ${snap.state.epoch + 1} or later`);
    writeWeights(model, snap.weights, tf);
    optimizer.setState(trainable, snap.optimizer);
    best = snap.best;
    average = snap.average;
    state = snap.state;
    optimizer.learningRate = state.learningRate;
    say(`resumed at epoch ${state.epoch + 1}, step ${state.step + 1}`);
  }

  // Frozen batch norm: statistics re-estimated at this resolution on a fresh run (a resumed one has
  // them in its checkpoint), then held for the whole run, here and in the gradient workers.
  if (o.batchNorm === 'frozen') {
    if (!o.resume && o.recalibrateBatches > 0) {
      const order = shuffle(trainIdx, rng(o.seed * 31337));
      const chunk = Math.max(o.microBatch, 16);
      const count = Math.min(o.recalibrateBatches, Math.ceil(order.length / chunk));
      const random = rng(o.seed * 7);
      async function* batches() {
        for (let b = 0; b < count; b++) {
          await hooks.checkpoint();
          say(`re-estimating batch-norm statistics at ${o.imgSize} px: batch ${b + 1}/${count}`, { step: b + 1, steps: count });
          const part = order.slice(b * chunk, (b + 1) * chunk);
          yield tf.tensor4d(makeBatch(cache, part, o.augment, random), [part.length, o.imgSize, o.imgSize, 3]);
        }
      }
      const used = await recalibrateBatchNorm(model, batches());
      say(`batch-norm statistics re-estimated on ${used} batch(es) of ${chunk} training images`);
    }
    freezeBatchNorm(model);
  }
  const helpers: GradientWorker[] = [];
  // With frozen batch norm the workers normalise with these statistics, so they get every weight once.
  const frozenWeights = o.batchNorm === 'frozen' && o.workers > 1 ? readWeights(model) : null;
  if (o.workers > 1) {
    const lanes = Math.min(o.workers, Math.ceil(o.batch / o.microBatch));
    if (lanes < o.workers) say(`--workers ${o.workers}: a batch of ${o.batch} has only ${lanes} micro-batch(es) of ${o.microBatch}; using ${lanes} worker(s)`);
    try {
      helpers.push(...(await Promise.all(Array.from({ length: lanes - 1 }, () => GradientWorker.start(tf.getBackend(), spec, o.seed, frozenWeights)))));
    } catch (err) {
      await Promise.all(helpers.map((h) => h.close()));
      throw err;
    }
    say(`data-parallel on ${helpers.length + 1} threads`);
  }

  /** Saves the run; `next` overrides the position (a mid-epoch save resumes at the following step). */
  const snapshot = async (next: Partial<TrainState> = {}) => {
    await saveCheckpoint(ckptDir, { state: { ...state, ...next, elapsedMs: state.elapsedMs + (Date.now() - sessionStart) }, weights: readWeights(model), best, average, optimizer: optimizer.getState() });
  };

  /** Forward passes for validation and the final evaluation, on the model's weights as they are now. */
  const openEval = () => evalForward(model, o.imgSize, o.head.pooling, o.evalRuntime, hooks.ortSettings ?? { threads: 0, provider: 'cpu' }, say);
  const predictProbs = async (idx: number[], tta: boolean, fwd: EvalForward): Promise<Float32Array[]> => {
    const rows: Float32Array[] = [];
    const chunk = 32;
    for (let s = 0; s < idx.length; s += chunk) {
      await hooks.checkpoint();
      const part = idx.slice(s, s + chunk);
      const views = tta ? [0, 1, 2, 3, 4, 5, 6, 7] : [0];
      const sum = new Float32Array(part.length * classes.length);
      const batch = makeBatch(cache, part, null, () => 0);
      for (const t of views) {
        let x = batch;
        if (t !== 0) {
          x = new Float32Array(batch.length);
          part.forEach((_, k) => dihedral(batch.subarray(k * cache.stride, (k + 1) * cache.stride), x, k * cache.stride, cache.size, t));
        }
        const raw = await fwd.run(x, part.length);
        toClassProbabilities(raw, part.length, classes.length).forEach((r, k) => r.forEach((v, c) => (sum[k * classes.length + c] += v / views.length)));
      }
      part.forEach((_, k) => rows.push(sum.slice(k * classes.length, (k + 1) * classes.length)));
    }
    return rows;
  };
  /** Pooled features of the images as they are (no augmentation), [idx.length, dim]. */
  const pooledFeatures = async (idx: number[], fwd: EvalForward): Promise<{ features: Float32Array; dim: number }> => {
    const parts: Float32Array[] = [];
    let dim = 0;
    for (let s = 0; s < idx.length; s += 32) {
      await hooks.checkpoint();
      const part = idx.slice(s, s + 32);
      const out = await fwd.pooledFeatures(makeBatch(cache, part, null, () => 0), part.length);
      parts.push(out.features);
      dim = out.dim;
    }
    const features = new Float32Array(idx.length * dim);
    parts.reduce((at, p) => (features.set(p, at), at + p.length), 0);
    return { features, dim };
  };
  const lossOf = (probs: Float32Array[], idx: number[]) =>
    probs.reduce((s, p, k) => s - Math.log(Math.max(1e-7, p[labels[idx[k]]])), 0) / Math.max(1, probs.length);

  const stepsPerEpoch = Math.ceil(trainIdx.length / o.batch);
  const sessionStart = Date.now();
  let lastSave = Date.now();
  let totalSteps = state.epoch * stepsPerEpoch + state.step;
  let stoppedBy: TrainResult['stoppedBy'] = 'epochs';
  const rate = { images: 0, ms: 0 };

  try {
    while (!state.done && state.epoch < o.epochs) {
      const epochStart = Date.now();
      const order = shuffle(trainIdx, rng(o.seed * 7919 + state.epoch));
      for (; state.step < stepsPerEpoch; state.step++) {
        await hooks.checkpoint();
        if (o.maxSteps !== null && totalSteps >= o.maxSteps) {
          stoppedBy = 'max-steps';
          throw new CancelledError();
        }
        const t0 = performance.now();
        const stepNo = state.epoch * stepsPerEpoch + state.step;
        if (o.lrSchedule === 'cosine') optimizer.learningRate = (o.lr * (1 + Math.cos((Math.PI * stepNo) / (o.epochs * stepsPerEpoch)))) / 2;
        // Warm-up: a fresh Adamax moves every weight by about the learning rate at its first steps, a
        // shock to a model it fine-tunes (--init); the rate climbs linearly over the first steps instead.
        if (stepNo < o.warmupSteps) optimizer.learningRate = (o.lr * (stepNo + 1)) / (o.warmupSteps + 1);
        else if (stepNo === o.warmupSteps && o.warmupSteps > 0 && o.lrSchedule !== 'cosine') optimizer.learningRate = o.lr;
        const batchIdx = order.slice(state.step * o.batch, (state.step + 1) * o.batch);
        const random = rng(o.seed * 104729 + state.epoch * 10007 + state.step);
        // tfjs draws dropout masks from Math.random when no seed is given (a fixed seed would repeat the
        // same mask every step); seeding Math.random per step makes runs and resumed runs repeat exactly.
        Math.random = rng(o.seed * 15485863 + state.epoch * 7727 + state.step);
        const x = makeBatch(cache, batchIdx, o.augment, random);
        const grads: Array<tf.Tensor | null> = trainable.map(() => null);
        let lossSum = 0;
        let correct = 0;
        // Micro-batch k runs on worker k mod (helpers + 1); 0 is this thread. Helpers start first and
        // work while this thread computes its own share.
        const micro: MicroBatch[] = [];
        for (let m = 0; m < batchIdx.length; m += o.microBatch) {
          const part = batchIdx.slice(m, m + o.microBatch);
          const y = part.map((i) => labels[i]);
          micro.push({ x: x.subarray(m * cache.stride, (m + part.length) * cache.stride), size: o.imgSize, labels: y, weights: y.map((c) => weightsPerClass[c]), share: part.length / batchIdx.length });
        }
        const lanes = helpers.length + 1;
        const weightsNow = helpers.length && micro.length > 1 ? trainable.map((v) => (v.dataSync() as Float32Array).slice()) : null;
        const remote = micro.flatMap((mb, k) =>
          k % lanes === 0 ? [] : [helpers[(k % lanes) - 1].compute({ ...mb, x: mb.x.slice() }, o.seed * 15485863 + state.epoch * 7727 + state.step + 1000003 * k, k < lanes ? weightsNow : null)],
        );
        for (let k = 0; k < micro.length; k += lanes) {
          const r = await microBatchGradients(graph, micro[k]);
          lossSum += r.loss;
          correct += r.hits;
          accumulate(grads, r.grads);
        }
        for (const r of await Promise.all(remote)) {
          lossSum += r.loss;
          correct += r.hits;
          accumulate(grads, r.grads.map((g, i) => (g ? tf.tensor(g, trainable[i].shape) : null)));
        }
        optimizer.apply(trainable, grads);
        tf.dispose(grads.filter((t): t is tf.Tensor => !!t));
        if (!Number.isFinite(lossSum)) throw new Error(`the loss became ${lossSum} at epoch ${state.epoch + 1}, step ${state.step + 1}: lower --lr`);

        const ms = performance.now() - t0;
        rate.images += batchIdx.length;
        rate.ms += ms;
        state.epochSums.loss += lossSum * batchIdx.length;
        state.epochSums.correct += correct;
        state.epochSums.seen += batchIdx.length;
        totalSteps++;
        const ips = rate.images / (rate.ms / 1000);
        const remainingImages = (stepsPerEpoch - state.step - 1) * o.batch + (o.epochs - state.epoch - 1) * trainIdx.length;
        hooks.progress({
          phase: 'training',
          epoch: state.epoch + 1,
          epochs: o.epochs,
          step: state.step + 1,
          steps: stepsPerEpoch,
          loss: state.epochSums.loss / state.epochSums.seen,
          accuracy: state.epochSums.correct / state.epochSums.seen,
          imagesPerSecond: ips,
          etaSeconds: remainingImages / ips,
          learningRate: optimizer.learningRate,
          message: '',
        });
        if (Date.now() - lastSave > o.checkpointMinutes * 60_000 && state.step + 1 < stepsPerEpoch) {
          await snapshot({ step: state.step + 1 });
          lastSave = Date.now();
        }
      }

      // End of epoch: validation, early stopping, learning-rate schedule, checkpoint.
      hooks.progress({ phase: 'evaluating', epoch: state.epoch + 1, epochs: o.epochs, step: stepsPerEpoch, steps: stepsPerEpoch, loss: null, accuracy: null, imagesPerSecond: null, etaSeconds: null, learningRate: optimizer.learningRate, message: 'validating' });
      // With averaging, the mean including this epoch is what gets validated (and may become the best);
      // it is kept only once validation is through, so a stop in between repeats this epoch's end exactly.
      const averaging = o.averageFrom > 0 && state.epoch + 1 >= o.averageFrom;
      const own = averaging ? readWeights(model) : null;
      const count = (state.average?.count ?? 0) + 1;
      const mean = own ? runningMean(average, own, count - 1) : null;
      let valLoss: number | null = null;
      let valAccuracy: number | null = null;
      if (mean) writeWeights(model, mean, tf);
      try {
        if (valIdx.length) {
          const fwd = await openEval();
          const probs = await predictProbs(valIdx, false, fwd).finally(() => fwd.dispose());
          valLoss = lossOf(probs, valIdx);
          valAccuracy = computeMetrics(probs, valIdx.map((i) => labels[i]), classes).accuracy;
        }
      } finally {
        if (own) writeWeights(model, own, tf);
      }
      if (mean) {
        average = mean;
        state.average = { from: o.averageFrom, count };
      }
      state.history.push({
        epoch: state.epoch + 1,
        loss: state.epochSums.loss / Math.max(1, state.epochSums.seen),
        accuracy: state.epochSums.correct / Math.max(1, state.epochSums.seen),
        valLoss,
        valAccuracy,
        ...(mean ? { averagedEpochs: count } : {}),
        learningRate: optimizer.learningRate,
        seconds: (Date.now() - epochStart) / 1000,
      });
      if (valLoss !== null) {
        if (state.bestValLoss === null || valLoss < state.bestValLoss - 1e-4) {
          state.bestValLoss = valLoss;
          state.bestEpoch = state.epoch + 1;
          state.staleEpochs = 0;
          best = mean ?? readWeights(model);
        } else {
          state.staleEpochs++;
          if (o.lrSchedule === 'plateau' && state.staleEpochs % 2 === 0) optimizer.learningRate /= 2;
          if (state.staleEpochs >= o.patience) {
            state.done = true;
            stoppedBy = 'early-stopping';
          }
        }
      }
      state.learningRate = optimizer.learningRate;
      state.epoch++;
      state.step = 0;
      state.epochSums = { loss: 0, correct: 0, seen: 0 };
      hooks.progress({ phase: 'evaluating', epoch: state.epoch, epochs: o.epochs, step: stepsPerEpoch, steps: stepsPerEpoch, loss: state.history.at(-1)!.loss, accuracy: state.history.at(-1)!.accuracy, imagesPerSecond: null, etaSeconds: null, learningRate: optimizer.learningRate, message: `epoch ${state.epoch}: val loss ${valLoss?.toFixed(4) ?? '-'}, val accuracy ${valAccuracy?.toFixed(4) ?? '-'}` });
      await snapshot();
      lastSave = Date.now();
    }
    state.done = true;
  } catch (err) {
    // Ctrl-C, a cancel from the app or --max-steps: keep what was done, then stop.
    if (err instanceof CancelledError) await snapshot();
    throw err;
  } finally {
    await Promise.all(helpers.map((h) => h.close()));
    if (!state.done) {
      model.dispose();
      optimizer.dispose();
    }
  }

  // The best weights (without a validation part: the average, when there is one), corrected for the
  // class weights and evaluated on what they were not trained on.
  const chosen = best ?? average;
  if (chosen) writeWeights(model, chosen, tf);
  await snapshot();
  const priorShift = o.priorCorrection ? applyPriorCorrection(model, classes, weightsPerClass) : null;
  if (priorShift) say(`class weights divided out of the output: logit shift ${Object.entries(priorShift).map(([c, v]) => `${c} ${v.toFixed(3)}`).join(', ')}`);
  const predictions: TrainResult['predictions'] = { val: null, test: null };
  const fwd = await openEval();
  const units = unitOfFile(data, split.method);
  const evaluate = async (idx: number[], part: 'val' | 'test'): Promise<Evaluation | null> => {
    if (!idx.length) return null;
    const truth = idx.map((i) => labels[i]);
    const t0 = performance.now();
    const probs = await predictProbs(idx, false, fwd);
    const msTotal = performance.now() - t0;
    predictions[part] = { files: split[part], labels: truth, probabilities: probs.map((p) => Array.from(p, (v) => Number(v.toFixed(6)))) };
    const groups = split[part].map((f) => units.get(f) ?? f);
    return {
      intervals: heldOutIntervals(probs, truth, groups, negativeClass === null ? null : classes.indexOf(negativeClass), intervalRandom(o.seed)),
      metrics: computeMetrics(probs, truth, classes, negativeClass ?? undefined),
      tta: computeMetrics(await predictProbs(idx, true, fwd), truth, classes, negativeClass ?? undefined),
      msTotal,
      msPerImage: msTotal / idx.length,
      runtime: fwd.runtime,
    };
  };
  hooks.progress({ phase: 'evaluating', epoch: state.epoch, epochs: o.epochs, step: 0, steps: 0, loss: null, accuracy: null, imagesPerSecond: null, etaSeconds: null, learningRate: optimizer.learningRate, message: 'evaluating the best weights on the held-out parts' });
  let val: Evaluation | null;
  let test: Evaluation | null;
  let ood: OodIndex | null = null;
  try {
    val = await evaluate(valIdx, 'val');
    test = await evaluate(testIdx, 'test');
    if (o.ood && valIdx.length >= OOD_MIN_VAL) {
      say('out-of-distribution index: features of the training and held-out images');
      const featuresOf = (idx: number[]) => pooledFeatures(idx, fwd);
      ood = await fitOodIndex(featuresOf, trainIdx, valIdx, testIdx);
      say(`out-of-distribution threshold ${ood.meta.threshold.toFixed(4)}: ${Object.entries(ood.meta.flagged).map(([part, f]) => `${f.unusual}/${f.n} ${part}`).join(', ')} flagged`);
    }
  } finally {
    await fwd.dispose();
  }
  const parameters = model.countParams();
  const seconds = (state.elapsedMs + (Date.now() - sessionStart)) / 1000;
  const manifest = await saveBundle(model, o.outDir, {
    name: o.name,
    spec,
    resize: o.resize,
    float16: o.float16,
    training: {
      command: o.command,
      dataDir: path.resolve(o.dataDir),
      split: { method: split.method, seed: split.seed, train: split.train.length, val: split.val.length, test: split.test.length, file: 'split.json' },
      classWeights: Object.fromEntries(classes.map((c, i) => [c, weightsPerClass[i]])),
      priorCorrection: priorShift,
      average: state.average ?? null,
      options: { ...o, command: undefined },
      init: initNote,
      backend: o.backend,
      epochsRun: state.history.length,
      bestEpoch: state.bestEpoch,
      stoppedBy,
      wallSeconds: Math.round(seconds),
      curves: 'training-curves.json',
      finished: new Date().toISOString(),
    },
    metrics: { val, test, headline: test ? 'test' : 'val' },
    ood,
  });
  await fs.writeFile(path.join(o.outDir, 'training-curves.json'), JSON.stringify(state.history, null, 1));
  await fs.writeFile(path.join(o.outDir, 'predictions.json'), JSON.stringify(predictions));
  await fs.rm(ckptDir, { recursive: true, force: true });
  model.dispose();
  optimizer.dispose();
  return { outDir: o.outDir, manifest, stoppedBy, val, test, history: state.history, seconds, parameters, predictions };
}

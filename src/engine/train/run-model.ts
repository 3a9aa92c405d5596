// A training run's model: built from the spec, initialised from other bundles (--init) or resumed from
// the checkpoint (which must have been made with the same options), its batch norm re-estimated and
// frozen when asked, and the gradient workers started for data-parallel training.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildModel, defaultSpec } from '../models/spec.js';
import { Adamax } from './adamax.js';
import { freezeBatchNorm, recalibrateBatchNorm, setBatchNormMomentum } from './batch-norm.js';
import { loadCheckpoint, readWeights, writeWeights, type TrainState } from './checkpoint.js';
import { rng, shuffle } from '../../core/random.js';
import { GradientWorker } from './gradient-workers.js';
import { initFrom } from './init-from.js';
import { trainingGraph } from './micro-batch.js';
import type { TrainOptions } from './options.js';
import { makeBatch, type RunData, type Say } from './run-data.js';
import type { Run, TrainHooks } from './run-types.js';

/** Values of fingerprint keys added after the first checkpoints were written. */
const FINGERPRINT_DEFAULTS: Record<string, unknown> = { architecture: 'efficientnet', limitPerClass: null, bnMomentum: 0.99, batchNorm: 'batch' };

function fingerprint(o: TrainOptions, classes: string[]): Record<string, unknown> {
  return {
    dataDir: path.resolve(o.dataDir),
    classes,
    architecture: o.architecture,
    limitPerClass: o.limitPerClass,
    variant: o.variant,
    imgSize: o.imgSize,
    batch: o.batch,
    split: o.split,
    blockSize: o.blockSize,
    valSplit: o.valSplit,
    testSplit: o.testSplit,
    seed: o.seed,
    head: o.head,
    preprocessing: o.preprocessing,
    bnMomentum: o.bnMomentum,
    batchNorm: o.batchNorm,
  };
}

function freshState(o: TrainOptions, classes: string[]): TrainState {
  const epochSums = { loss: 0, correct: 0, seen: 0 };
  return {
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
    epochSums,
    done: false,
  };
}

/** The model, its training graph and optimizer, and the run's starting state (fresh, or the checkpoint's). */
export async function prepareModel(o: TrainOptions, hooks: TrainHooks, data: RunData, say: Say): Promise<Run> {
  const { classes } = data;
  const variant = o.architecture === 'efficientnet' ? o.variant : o.architecture;
  const spec = defaultSpec(o.variant, classes, { architecture: o.architecture, variant, inputSize: o.imgSize, preprocessing: o.preprocessing, head: o.head });
  const model = buildModel(spec, o.seed);
  setBatchNormMomentum(model, o.bnMomentum);
  const initNote = o.init.length ? await initFrom(o.init, model) : null;
  if (initNote) {
    const from = initNote.bundles.map((b) => b.id).join(' + ');
    say(`initialised ${initNote.layersCopied} layers from ${o.init.length > 1 ? `the mean of ${from}` : from}${initNote.layersNew.length ? `; new: ${initNote.layersNew.join(', ')}` : ''}`);
  }
  const graph = trainingGraph(model, o.head, classes.length);
  const now = Date.now();
  const run: Run = {
    ...data,
    o,
    hooks,
    say,
    spec,
    model,
    graph,
    initNote,
    ckptDir: path.join(o.outDir, 'checkpoint'),
    optimizer: new Adamax(o.lr),
    state: freshState(o, classes),
    best: null,
    average: null,
    ort: null,
    helpers: [],
    stoppedBy: 'epochs',
    stepsPerEpoch: Math.ceil(data.trainIdx.length / o.batch),
    sessionStart: now,
    lastSave: now,
    totalSteps: 0,
    rate: { images: 0, ms: 0 },
  };
  if (o.resume) await resume(run);
  return run;
}

/** Takes the checkpoint's weights, optimizer state and position, after checking it belongs to this run. */
async function resume(run: Run): Promise<void> {
  const { o, model, optimizer, ckptDir } = run;
  const trainable = run.graph.trainable;
  const snap = await loadCheckpoint(
    ckptDir,
    model.weights.map((w) => tf.util.sizeFromShape(w.shape as number[])),
    trainable.map((v) => v.size),
  );
  if (!snap) throw new Error(`--resume: no checkpoint in ${ckptDir}`);
  // Checkpoints from before a key existed carry no value for it: they match when ours is its default.
  const stored = { ...FINGERPRINT_DEFAULTS, ...snap.state.fingerprint };
  const mismatch = Object.keys(run.state.fingerprint).filter((k) => JSON.stringify(run.state.fingerprint[k]) !== JSON.stringify(stored[k]));
  if (mismatch.length) throw new Error(`--resume: the checkpoint in ${ckptDir} was made with other ${mismatch.join(', ')}`);
  // Averaging does not change the path of the weights, so it may be switched on at a resume, but
  // only before its first epoch ends; once begun, the mean is of a fixed set of epochs.
  const averaged = snap.state.average;
  if (averaged && averaged.count > 0 && averaged.from !== o.averageFrom)
    throw new Error(`--resume: this run averages the weights from epoch ${averaged.from}; resume it with --average-from ${averaged.from}`);
  if (o.averageFrom > 0 && !snap.average && snap.state.epoch >= o.averageFrom)
    throw new Error(`--average-from ${o.averageFrom}: epoch ${o.averageFrom} of this run is already over; use ${snap.state.epoch + 1} or later`);
  writeWeights(model, snap.weights, tf);
  optimizer.setState(trainable, snap.optimizer);
  run.best = snap.best;
  run.average = snap.average;
  run.state = snap.state;
  optimizer.learningRate = run.state.learningRate;
  run.say(`resumed at epoch ${run.state.epoch + 1}, step ${run.state.step + 1}`);
}

/** Frozen batch norm: statistics re-estimated at this resolution on a fresh run (a resumed one has them
 *  in its checkpoint), then held for the whole run, here and in the gradient workers. */
export async function prepareBatchNorm(run: Run): Promise<void> {
  const { o, say, cache } = run;
  if (o.batchNorm !== 'frozen') return;
  if (!o.resume && o.recalibrateBatches > 0) {
    const order = shuffle(run.trainIdx, rng(o.seed * 31337));
    const chunk = Math.max(o.microBatch, 16);
    const count = Math.min(o.recalibrateBatches, Math.ceil(order.length / chunk));
    const random = rng(o.seed * 7);
    // The forward passes draw dropout masks from Math.random: seeded, so that a run repeats exactly.
    Math.random = rng(o.seed * 7 + 1);
    async function* batches() {
      for (let b = 0; b < count; b++) {
        await run.hooks.checkpoint();
        say(`re-estimating batch-norm statistics at ${o.imgSize} px: batch ${b + 1}/${count}`, { step: b + 1, steps: count });
        const part = order.slice(b * chunk, (b + 1) * chunk);
        yield tf.tensor4d(makeBatch(cache, part, o.augment, random), [part.length, o.imgSize, o.imgSize, 3]);
      }
    }
    const used = await recalibrateBatchNorm(run.model, batches());
    say(`batch-norm statistics re-estimated on ${used} batch(es) of ${chunk} training images`);
  }
  freezeBatchNorm(run.model);
}

/** One gradient worker per further micro-batch lane (--workers). */
export async function startHelpers(run: Run): Promise<void> {
  const { o } = run;
  if (o.workers <= 1) return;
  // With frozen batch norm the workers normalise with these statistics, so they get every weight once.
  const frozenWeights = o.batchNorm === 'frozen' ? readWeights(run.model) : null;
  const lanes = Math.min(o.workers, Math.ceil(o.batch / o.microBatch));
  if (lanes < o.workers) run.say(`--workers ${o.workers}: a batch of ${o.batch} has only ${lanes} micro-batch(es) of ${o.microBatch}; using ${lanes} worker(s)`);
  try {
    run.helpers.push(...(await Promise.all(Array.from({ length: lanes - 1 }, () => GradientWorker.start(tf.getBackend(), run.spec, o.seed, frozenWeights)))));
  } catch (err) {
    await Promise.all(run.helpers.map((h) => h.close()));
    throw err;
  }
  run.say(`data-parallel on ${run.helpers.length + 1} threads`);
}

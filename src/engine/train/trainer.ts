// The training loop of the paper's protocol: class-weighted cross-entropy, Adamax, early stopping on
// validation loss with the best weights restored, light augmentation, deterministic with the seed.
// Checkpoints go to <out>/checkpoint every N minutes and after every epoch; --resume continues from them.
// The run goes in phases, one module each: data and split (run-data), model, init or resume, batch norm
// and workers (run-model), epochs (run-epochs), then the chosen weights evaluated (run-eval) and saved.
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { saveBundle } from '../bundle.js';
import { writeWeights } from './checkpoint.js';
import { applyPriorCorrection } from './prior-correction.js';
import type { TrainOptions, TrainProgress } from './options.js';
import { prepareData } from './run-data.js';
import { prepareBatchNorm, prepareModel, startHelpers } from './run-model.js';
import { runEpochs, snapshot } from './run-epochs.js';
import { startOrtLane } from './ort-lane.js';
import { finalEvaluation } from './run-eval.js';
import { colourStats } from '../adapt/colour.js';
import type { Run, TrainHooks, TrainResult } from './run-types.js';

export type { Evaluation, PartPredictions, TrainHooks, TrainResult } from './run-types.js';

export async function train(o: TrainOptions, hooks: TrainHooks): Promise<TrainResult> {
  const systemRandom = Math.random;
  try {
    return await trainRun(o, hooks);
  } finally {
    Math.random = systemRandom;
  }
}

async function trainRun(o: TrainOptions, hooks: TrainHooks): Promise<TrainResult> {
  const say = (message: string, extra: Partial<TrainProgress> = {}) =>
    hooks.progress({ phase: 'loading', epoch: 0, epochs: o.epochs, step: 0, steps: 0, loss: null, accuracy: null, imagesPerSecond: null, etaSeconds: null, learningRate: o.lr, message, ...extra });
  const run = await prepareModel(o, hooks, await prepareData(o, say), say);
  await prepareBatchNorm(run);
  await startOrtLane(run);
  if (!run.ort) await startHelpers(run);
  await runEpochs(run);
  // The best weights (without a validation part: the average, when there is one), corrected for the
  // class weights and evaluated on what they were not trained on.
  const chosen = run.best ?? run.average;
  if (chosen) writeWeights(run.model, chosen, tf);
  await snapshot(run);
  const priorShift = o.priorCorrection ? applyPriorCorrection(run.model, run.classes, run.weightsPerClass) : null;
  if (priorShift)
    say(
      `class weights divided out of the output: logit shift ${Object.entries(priorShift)
        .map(([c, v]) => `${c} ${v.toFixed(3)}`)
        .join(', ')}`,
    );
  const evaluated = await finalEvaluation(run);
  return saveRun(run, priorShift, evaluated);
}

/** The bundle with its training record and held-out figures, the curves and the predictions; the checkpoint goes. */
async function saveRun(run: Run, priorShift: Record<string, number> | null, evaluated: Awaited<ReturnType<typeof finalEvaluation>>): Promise<TrainResult> {
  const { o, state, split, classes, model } = run;
  const { val, test, ood, predictions } = evaluated;
  const parameters = model.countParams();
  const seconds = (state.elapsedMs + (Date.now() - run.sessionStart)) / 1000;
  const manifest = await saveBundle(model, o.outDir, {
    name: o.name,
    spec: run.spec,
    resize: o.resize,
    float16: o.float16,
    training: {
      command: o.command,
      dataDir: path.resolve(o.dataDir),
      split: { method: split.method, seed: split.seed, train: split.train.length, val: split.val.length, test: split.test.length, file: 'split.json' },
      // The training images' colour, which `adapt` maps a lab's colour onto (adapt/colour.ts).
      colourReference: colourStats(
        run.trainIdx.map((i) => run.cache.pixels.subarray(i * run.cache.stride, (i + 1) * run.cache.stride)),
        1 / 255,
      ),
      classWeights: Object.fromEntries(classes.map((c, i) => [c, run.weightsPerClass[i]])),
      priorCorrection: priorShift,
      average: state.average ?? null,
      options: { ...o, command: undefined },
      init: run.initNote,
      backend: o.backend,
      epochsRun: state.history.length,
      bestEpoch: state.bestEpoch,
      stoppedBy: run.stoppedBy,
      wallSeconds: Math.round(seconds),
      curves: 'training-curves.json',
      finished: new Date().toISOString(),
    },
    metrics: { val, test, headline: test ? 'test' : 'val' },
    ood,
  });
  await fs.writeFile(path.join(o.outDir, 'training-curves.json'), JSON.stringify(state.history, null, 1));
  await fs.writeFile(path.join(o.outDir, 'predictions.json'), JSON.stringify(predictions));
  await fs.rm(run.ckptDir, { recursive: true, force: true });
  model.dispose();
  run.optimizer.dispose();
  return { outDir: o.outDir, manifest, stoppedBy: run.stoppedBy, val, test, history: state.history, seconds, parameters, predictions };
}

// A training run's forward passes: validation each epoch, and the final evaluation of the chosen weights
// on the held-out parts (plain and over the eight flips and rotations), with the out-of-distribution
// index fitted on the same features.
import { computeMetrics, heldOutIntervals } from '../metrics.js';
import { toClassProbabilities } from '../models/head.js';
import { fitOodIndex, OOD_MIN_VAL } from '../ood/fit.js';
import type { OodIndex } from '../ood/knn.js';
import { dihedral } from './augment.js';
import { intervalRandom, unitOfFile } from './dataset.js';
import { evalForward, type EvalForward } from './eval-forward.js';
import { makeBatch } from './run-data.js';
import type { Evaluation, Run, TrainResult } from './run-types.js';

/** Forward passes on the model's weights as they are now. */
export function openEval(run: Run): Promise<EvalForward> {
  const { o } = run;
  return evalForward(run.model, o.imgSize, o.head.pooling, o.evalRuntime, run.hooks.ortSettings ?? { threads: 0, provider: 'cpu' }, run.say);
}

/** Class probabilities of the images idx, averaged over the eight symmetries when `tta`. */
export async function predictProbs(run: Run, idx: number[], tta: boolean, fwd: EvalForward): Promise<Float32Array[]> {
  const { cache, classes } = run;
  const rows: Float32Array[] = [];
  for (let s = 0; s < idx.length; s += 32) {
    await run.hooks.checkpoint();
    const part = idx.slice(s, s + 32);
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
}

/** Pooled features of the images as they are (no augmentation), [idx.length, dim]. */
async function pooledFeatures(run: Run, idx: number[], fwd: EvalForward): Promise<{ features: Float32Array; dim: number }> {
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let s = 0; s < idx.length; s += 32) {
    await run.hooks.checkpoint();
    const part = idx.slice(s, s + 32);
    const out = await fwd.pooledFeatures(
      makeBatch(run.cache, part, null, () => 0),
      part.length,
    );
    parts.push(out.features);
    dim = out.dim;
  }
  const features = new Float32Array(idx.length * dim);
  parts.reduce((at, p) => (features.set(p, at), at + p.length), 0);
  return { features, dim };
}

export function lossOf(run: Run, probs: Float32Array[], idx: number[]): number {
  return probs.reduce((s, p, k) => s - Math.log(Math.max(1e-7, p[run.labels[idx[k]]])), 0) / Math.max(1, probs.length);
}

/** One held-out part: metrics, the 8-view metrics, timing, intervals drawn by the split's blocks. */
async function evaluatePart(run: Run, fwd: EvalForward, idx: number[], part: 'val' | 'test', predictions: TrainResult['predictions']): Promise<Evaluation | null> {
  if (!idx.length) return null;
  const { classes, negativeClass, split } = run;
  const truth = idx.map((i) => run.labels[i]);
  const t0 = performance.now();
  const probs = await predictProbs(run, idx, false, fwd);
  const msTotal = performance.now() - t0;
  predictions[part] = { files: split[part], labels: truth, probabilities: probs.map((p) => Array.from(p, (v) => Number(v.toFixed(6)))) };
  const units = unitOfFile(run.data, split.method);
  const groups = split[part].map((f) => units.get(f) ?? f);
  return {
    intervals: heldOutIntervals(probs, truth, groups, negativeClass === null ? null : classes.indexOf(negativeClass), intervalRandom(run.o.seed)),
    metrics: computeMetrics(probs, truth, classes, negativeClass ?? undefined),
    tta: computeMetrics(await predictProbs(run, idx, true, fwd), truth, classes, negativeClass ?? undefined),
    msTotal,
    msPerImage: msTotal / idx.length,
    runtime: fwd.runtime,
  };
}

/** The chosen weights on the held-out parts, and the out-of-distribution index when there is enough validation. */
export async function finalEvaluation(run: Run): Promise<{ val: Evaluation | null; test: Evaluation | null; ood: OodIndex | null; predictions: TrainResult['predictions'] }> {
  const predictions: TrainResult['predictions'] = { val: null, test: null };
  const fwd = await openEval(run);
  const { state, o, optimizer } = run;
  run.hooks.progress({
    phase: 'evaluating',
    epoch: state.epoch,
    epochs: o.epochs,
    step: 0,
    steps: 0,
    loss: null,
    accuracy: null,
    imagesPerSecond: null,
    etaSeconds: null,
    learningRate: optimizer.learningRate,
    message: 'evaluating the best weights on the held-out parts',
  });
  try {
    const val = await evaluatePart(run, fwd, run.valIdx, 'val', predictions);
    const test = await evaluatePart(run, fwd, run.testIdx, 'test', predictions);
    let ood: OodIndex | null = null;
    if (o.ood && run.valIdx.length >= OOD_MIN_VAL) {
      run.say('out-of-distribution index: features of the training and held-out images');
      ood = await fitOodIndex((idx) => pooledFeatures(run, idx, fwd), run.trainIdx, run.valIdx, run.testIdx);
      run.say(
        `out-of-distribution threshold ${ood.meta.threshold.toFixed(4)}: ${Object.entries(ood.meta.flagged)
          .map(([part, f]) => `${f.unusual}/${f.n} ${part}`)
          .join(', ')} flagged`,
      );
    }
    return { val, test, ood, predictions };
  } finally {
    await fwd.dispose();
  }
}

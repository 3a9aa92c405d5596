// One retraining run from technician labels: a new model version (bundle + the labels it used) and
// its comparison with the current model on held-out labels and on the base data set's test part.
import fs from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { loadBundle, saveBundle, updateManifest, type LoadedBundle } from '../bundle.js';
import { prepareImage } from '../../ingest/image.js';
import { computeMetrics, type Metrics } from '../metrics.js';
import { toClassProbabilities } from '../models/head.js';
import type { ModelSpec } from '../models/spec.js';
import { readSplit, scanClassFolders } from '../train/dataset.js';
import { train } from '../train/trainer.js';
import { TRAIN_DEFAULTS } from '../train/options.js';
import type { OrtModel } from '../onnx/ort-runtime.js';
import { extractFeatures, VIEWS } from './features.js';
import { headModel, trainHead, withHead } from './head-only.js';
import type { Comparison, RetrainLabel, RetrainRequest, RetrainResult } from './types.js';
import { writePrivate } from '../../store/files.js';

export interface RetrainHooks {
  progress(done: number, total: number, message: string): void;
  checkpoint(): Promise<void>;
  /** ONNX Runtime for a bundle's forward graph, or null (features then come from TensorFlow.js). */
  ort(bundle: LoadedBundle): Promise<OrtModel | null>;
}

interface BaseData {
  /** Files (absolute) and labels the new model may train on. */
  train: Array<{ file: string; label: string }>;
  test: Array<{ file: string; label: string }>;
  note?: string;
}

/** The base data set: its training part merges into retraining, its test part is a yardstick. */
async function baseData(req: RetrainRequest, bundle: LoadedBundle): Promise<BaseData | null> {
  if (!req.baseDataDir) return null;
  const data = await scanClassFolders(req.baseDataDir, req.extensions);
  if (JSON.stringify([...data.classes].sort()) !== JSON.stringify([...req.classes].sort())) {
    return { train: [], test: [], note: `${req.baseDataDir} has classes ${data.classes.join(', ')}, not ${req.classes.join(', ')}` };
  }
  const all = data.samples.map((s) => ({ file: path.join(data.root, s.file), label: data.classes[s.label] }));
  const trainedOn = (bundle.manifest.training as { dataDir?: string } | null)?.dataDir;
  const splitFile = path.join(bundle.dir, 'split.json');
  if (trainedOn && path.resolve(trainedOn) === path.resolve(req.baseDataDir) && (await fs.stat(splitFile).catch(() => null))) {
    // The current model's own split: its test images stay unseen by the new version too.
    const split = await readSplit(splitFile, data);
    const test = new Set(split.test);
    return {
      train: data.samples.filter((s) => !test.has(s.file)).map((s) => ({ file: path.join(data.root, s.file), label: data.classes[s.label] })),
      test: split.test.map((f) => all.find((a) => a.file === path.join(data.root, f))!),
    };
  }
  return { train: all, test: [], note: 'no test part: the current model was not trained on this folder with a split' };
}

/** How slides are read: the request's limits (a retrain's or an adapt's). */
export type ReadLimits = Pick<RetrainRequest, 'extensions' | 'maxPixels' | 'resize'>;

async function loadInputs(files: string[], req: ReadLimits, size: number, hooks: RetrainHooks, what: string): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const [i, file] of files.entries()) {
    if (i % 16 === 0) await hooks.checkpoint();
    try {
      out.push((await prepareImage(file, { extensions: req.extensions, maxPixels: req.maxPixels, maxBytes: Number.MAX_SAFE_INTEGER }, size, req.resize)).input);
    } catch (err) {
      throw new Error(`cannot read ${file}: ${(err as Error).message}`);
    }
    hooks.progress(i + 1, files.length, `reading ${what} ${i + 1}/${files.length}`);
  }
  return out;
}

async function probabilities(model: tf.LayersModel, inputs: Float32Array[], size: number, classes: number, hooks: RetrainHooks): Promise<Float32Array[]> {
  const rows: Float32Array[] = [];
  for (let s = 0; s < inputs.length; s += 16) {
    await hooks.checkpoint();
    const part = inputs.slice(s, s + 16);
    const packed = new Float32Array(part.length * size * size * 3);
    part.forEach((p, i) => packed.set(p, i * size * size * 3));
    const out = tf.tidy(() => model.predict(tf.tensor4d(packed, [part.length, size, size, 3])) as tf.Tensor);
    rows.push(...toClassProbabilities((await out.data()) as Float32Array, part.length, classes));
    out.dispose();
  }
  return rows;
}

export function negativeOf(classes: string[]): string | undefined {
  return classes.find((c) => /^(benign|hem|normal)$/i.test(c));
}

/** Both models scored on the same labelled images (a retrain's held-out labels and base test part, an adapt's labels). */
export async function compare(
  current: LoadedBundle,
  candidate: tf.LayersModel,
  candidateClasses: string[],
  items: Array<{ file: string; label: string }>,
  req: ReadLimits,
  hooks: RetrainHooks,
  what: string,
): Promise<Comparison> {
  if (!items.length) return { n: 0, current: null, candidate: null, note: `no ${what}` };
  const size = current.manifest.spec.inputSize;
  const inputs = await loadInputs(
    items.map((i) => i.file),
    req,
    size,
    hooks,
    what,
  );
  const score = async (model: tf.LayersModel, classes: string[]): Promise<Metrics> => {
    const probs = await probabilities(model, inputs, size, classes.length, hooks);
    const truth = items.map((i) => classes.indexOf(i.label));
    if (truth.some((t) => t < 0)) throw new Error(`a ${what} label is not one of ${classes.join(', ')}`);
    return computeMetrics(probs, truth, classes, negativeOf(classes));
  };
  const sameClasses = JSON.stringify(current.manifest.spec.classes) === JSON.stringify(candidateClasses);
  return {
    n: items.length,
    current: sameClasses ? await score(current.model, candidateClasses) : null,
    candidate: await score(candidate, candidateClasses),
    note: sameClasses ? undefined : `the current model has other classes (${current.manifest.spec.classes.join(', ')})`,
  };
}

function labelRecord(l: RetrainLabel) {
  return { sha256: l.sha256, label: l.label, technician: l.technician, decidedAt: l.decidedAt, file: path.basename(l.file) };
}

/** What the new version records of its making: the parent, the labels (trained on and held out), the settings. */
function provenanceOf(req: RetrainRequest, parent: string, baseImages: number) {
  const { mode, baseDataDir, epochs, lr, seed } = req;
  return { retrain: { mode, parent, labels: req.train.map(labelRecord), heldOut: req.heldOut.map(labelRecord), baseDataDir, baseImages, epochs, lr, seed } };
}

export async function retrain(req: RetrainRequest, hooks: RetrainHooks): Promise<RetrainResult> {
  const t0 = Date.now();
  const bundle = await loadBundle(req.modelDir);
  const unknown = [...req.train, ...req.heldOut].map((l) => l.label).filter((l) => !req.classes.includes(l));
  if (unknown.length) throw new Error(`labels ${[...new Set(unknown)].join(', ')} are not among the classes ${req.classes.join(', ')}`);
  if (!req.train.length) throw new Error('no labels to train on');
  const base = await baseData(req, bundle);
  const spec: ModelSpec = { ...bundle.manifest.spec, classes: req.classes };
  const size = spec.inputSize;
  let candidate: tf.LayersModel;
  let classes = req.classes;
  let curve: RetrainResult['curve'] = [];
  let headCorrection: Record<string, number> | null = null; // recorded so that a later retraining can take it out
  const provenance = provenanceOf(req, bundle.manifest.id, base?.train.length ?? 0);
  try {
    if (req.mode === 'head') {
      const inputs = await loadInputs(
        req.train.map((l) => l.file),
        req,
        size,
        hooks,
        'labelled slides',
      );
      const baseInputs = base?.train.length
        ? await loadInputs(
            base.train.map((b) => b.file),
            req,
            size,
            hooks,
            'base images',
          )
        : [];
      const ort = await hooks.ort(bundle);
      hooks.progress(0, 1, 'backbone features');
      const labelled = await extractFeatures(bundle, ort, inputs, VIEWS, async (d, t) => {
        await hooks.checkpoint();
        hooks.progress(d, t, `features of the labelled slides ${d}/${t}`);
      });
      const baseFeatures = baseInputs.length
        ? await extractFeatures(bundle, ort, baseInputs, 1, async (d, t) => {
            await hooks.checkpoint();
            if (d % 32 === 0 || d === t) hooks.progress(d, t, `features of the base images ${d}/${t}`);
          })
        : null;
      await ort?.dispose();
      const k = labelled.k;
      const labels = [...req.train.flatMap((l) => Array(VIEWS).fill(req.classes.indexOf(l.label)) as number[]), ...(base?.train ?? []).map((b) => req.classes.indexOf(b.label))];
      const features = new Float32Array(labels.length * k);
      features.set(labelled.features, 0);
      if (baseFeatures) features.set(baseFeatures.features, labelled.features.length);
      const head = headModel(bundle, k, req.classes, req.seed);
      const trained = await trainHead(head, features, k, labels, req.classes.length, {
        epochs: req.epochs,
        batch: req.batch,
        lr: req.lr,
        seed: req.seed,
        onEpoch: async (epoch, loss, accuracy) => {
          await hooks.checkpoint();
          hooks.progress(epoch, req.epochs, `epoch ${epoch}/${req.epochs}: loss ${loss.toFixed(4)}, accuracy ${accuracy.toFixed(3)}`);
        },
      });
      curve = trained.curve;
      const shift = trained.priorCorrection;
      if (shift) headCorrection = Object.fromEntries(req.classes.map((c, i) => [c, shift[String(i)]]));
      candidate = withHead(bundle, head, spec, req.seed);
      head.dispose();
    } else {
      const tuned = await fineTune(req, bundle, base, hooks, (c) => (curve = c));
      candidate = tuned.model;
      classes = tuned.classes; // class folders are read in name order
    }
    const heldOut = await compare(
      bundle,
      candidate,
      classes,
      req.heldOut.map((l) => ({ file: l.file, label: l.label })),
      req,
      hooks,
      'held-out labels',
    );
    const baseCmp = base?.test.length
      ? await compare(bundle, candidate, classes, base.test, req, hooks, 'base test images')
      : { n: 0, current: null, candidate: null, note: base?.note ?? 'no base data set' };
    const metrics = { heldOut: heldOut.candidate, baseTest: baseCmp.candidate };
    let id: string;
    if (req.mode === 'head') {
      const manifest = await saveBundle(candidate, req.outDir, {
        name: req.name,
        spec,
        resize: bundle.manifest.preprocessing.resize,
        float16: bundle.manifest.weightsDtype === 'float16',
        training: { ...provenance, priorCorrection: headCorrection },
        metrics,
        ood: bundle.ood,
      }); // same backbone: same features, same index
      id = manifest.id;
    } else {
      id = await recordFullRetrain(req.outDir, bundle, provenance, metrics);
    }
    candidate.dispose();
    const result: RetrainResult = { id, outDir: req.outDir, mode: req.mode, seconds: (Date.now() - t0) / 1000, trainedOn: req.train.length + (base?.train.length ?? 0), heldOut, base: baseCmp, curve };
    await writePrivate(path.join(req.outDir, 'retrain.json'), JSON.stringify(result, null, 1) + '\n');
    return result;
  } finally {
    bundle.model.dispose();
  }
}

/**
 * A full retrain's bundle gets its provenance and figures, and keeps an out-of-distribution check: a few
 * labels give no validation part to fit one on, so the current model's index is carried (its backbone
 * moved by a few steps at a tenth of the rate) and the manifest says so.
 */
async function recordFullRetrain(outDir: string, parent: LoadedBundle, provenance: ReturnType<typeof provenanceOf>, metrics: Record<string, unknown>): Promise<string> {
  const saved = await loadBundle(outDir);
  try {
    const training = { ...saved.manifest.training, ...provenance };
    if (saved.ood || !parent.ood) return (await updateManifest(outDir, { training, metrics: { ...saved.manifest.metrics, ...metrics } })).id;
    const manifest = await saveBundle(saved.model, outDir, {
      name: saved.manifest.name,
      spec: saved.manifest.spec,
      resize: saved.manifest.preprocessing.resize,
      float16: saved.manifest.weightsDtype === 'float16',
      training: { ...training, oodCarriedFrom: parent.manifest.id },
      metrics: { ...saved.manifest.metrics, ...metrics },
      ood: parent.ood,
    });
    return manifest.id;
  } finally {
    saved.model.dispose();
  }
}

/** Full fine-tuning: `train` with the current model as its start, on the labels (+ base training part). */
async function fineTune(
  req: RetrainRequest,
  bundle: LoadedBundle,
  base: BaseData | null,
  hooks: RetrainHooks,
  onCurve: (c: RetrainResult['curve']) => void,
): Promise<{ model: tf.LayersModel; classes: string[] }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'slidetriage-retrain-'));
  try {
    const items = [...req.train.map((l) => ({ file: l.file, label: l.label })), ...(base?.train ?? [])];
    for (const [i, item] of items.entries()) {
      await fs.mkdir(path.join(dataDir, item.label), { recursive: true });
      await fs.symlink(item.file, path.join(dataDir, item.label, `${String(i).padStart(6, '0')}${path.extname(item.file).toLowerCase()}`));
    }
    const spec = bundle.manifest.spec;
    const result = await train(
      {
        ...TRAIN_DEFAULTS,
        dataDir,
        outDir: req.outDir,
        name: req.name,
        architecture: spec.architecture,
        variant: spec.architecture === 'efficientnet' ? (spec.variant as typeof TRAIN_DEFAULTS.variant) : TRAIN_DEFAULTS.variant,
        imgSize: spec.inputSize,
        epochs: req.epochs,
        batch: req.batch,
        lr: req.lr,
        // The model's own batch-norm statistics, held: statistics from micro-batches of a few labelled
        // slides would overwrite what it learnt from thousands, and batch statistics at 224 px need more
        // than the 4 GB wasm heap at micro-batches of 8 (the shipped model's full retraining aborted).
        batchNorm: 'frozen',
        recalibrateBatches: 0,
        microBatch: 8,
        warmupSteps: 3,
        // A second training thread nearly halves the time but brings its own wasm heap (8.2 GB peak
        // in all for the default model): only where the machine has room for it.
        workers: os.availableParallelism() >= 2 && os.totalmem() >= 16 * 2 ** 30 ? 2 : 1,
        valSplit: items.length >= 20 ? 0.15 : 0,
        split: 'stratified',
        seed: req.seed,
        init: [req.modelDir],
        head: spec.head,
        preprocessing: spec.preprocessing,
        float16: bundle.manifest.weightsDtype === 'float16',
        negativeClass: negativeOf(req.classes) ?? null,
        classes: req.classes, // every class of the model keeps its output, labelled or not
        checkpointMinutes: 5,
        extensions: req.extensions,
        maxPixels: req.maxPixels,
        resize: req.resize,
        command: 'retrain --mode full',
        backend: 'engine',
      },
      {
        progress: (p) => hooks.progress(p.step, p.steps || 1, p.message || `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps}`),
        checkpoint: hooks.checkpoint,
      },
    );
    onCurve(result.history.map((h) => ({ epoch: h.epoch, loss: h.loss, accuracy: h.accuracy })));
    const saved = await loadBundle(req.outDir);
    return { model: saved.model, classes: saved.manifest.spec.classes };
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

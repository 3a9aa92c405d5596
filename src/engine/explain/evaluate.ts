// `xai-eval`: every method, and a random heatmap as the floor, measured on held-out images of a data
// folder with the loaded model: deletion and insertion AUC, pointing game and relevance mass inside
// the segmented cell, the model-randomisation check, and milliseconds per explanation.
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeRgb, readImageFile, toModelInput } from '../../ingest/image.js';
import { loadBundle, type LoadedBundle } from '../bundle.js';
import { argmax } from '../../core/probabilities.js';
import { toClassProbabilities } from '../models/head.js';
import { readSplit, scanClassFolders } from '../train/dataset.js';
import { rng, shuffle } from '../../core/random.js';
import { methodByName } from './index.js';
import { cellMask } from './cell-mask.js';
import { cornerMask, deletionAuc, insertionAuc, pointingGame, relevanceMass } from './quality.js';
import { layersFromTop, randomisationCorrelation, randomiseLayers } from './sanity.js';
import { explain, upsample, type ExplainInput, type ExplanationMethod } from './types.js';
import { bootstrap, compareWithFloor, floorOf, type Estimate, type FloorComparison } from './xai-stats.js';

export interface XaiEvalRequest {
  dataDir: string;
  masksDir: string | null;
  limit: number;
  /** Which held-out part of the model's split: the test part reports, the validation part is for choosing
   *  a method without looking at the test part. Where the folder is not the one the model was trained on,
   *  every image is used. */
  part: 'test' | 'val';
  methods: string[];
  seed: number;
  options: Record<string, Record<string, unknown>>;
  /** Images used for the (slower) randomisation check. */
  sanityImages: number;
  extensions: string[];
  maxPixels: number;
}

export interface XaiRow {
  method: string;
  images: number;
  deletionAuc: number;
  insertionAuc: number;
  pointingGame: number | null;
  relevanceMass: number | null;
  randomisationSpearman: number | null;
  /** Randomisation checks left out of the mean because a map was constant (no ranking to compare). */
  randomisationConstant: number;
  /** Sampled methods (LIME): rank correlation of a map with the same method's at the next seed, on the sanity images. */
  runToRunSpearman: number | null;
  /** Share of the relevance in the scale-mark corner (the box is 1.5% of the image). */
  cornerMass: number;
  ms: number;
  /** 95% bootstrap intervals over images of the figures above. */
  intervals: { deletionAuc: Estimate | null; insertionAuc: Estimate | null; pointingGame: Estimate | null; relevanceMass: Estimate | null };
  /** The method against its floor (xai-stats.ts); null for the floors themselves. */
  vsFloor: FloorComparison | null;
}

export interface XaiEvalResult {
  model: string;
  images: number;
  source: string;
  masks: { used: number; skippedNearlyEmpty: number; missing: number };
  rows: XaiRow[];
}

/**
 * A map of uniform noise on a side × side grid, upsampled as CAMs are, a new one for every image: what a
 * method has to beat. Two floors: pixel noise (side = the image's), and smooth noise at the last feature
 * map's scale (7 × 7 at 224 px). Pixel noise alone is an unfair floor for deletion: removing scattered
 * pixels first wrecks the whole image at once and drops any score fast, whatever the model uses.
 */
const noiseMap = (name: string, seed: number, sideOf: (size: number) => number): ExplanationMethod<Record<string, never>> => {
  const r = rng(seed);
  return {
    name,
    defaults: {},
    async compute({ size }) {
      const side = sideOf(size);
      const grid = Float32Array.from({ length: side * side }, () => r());
      if (side === size) return { map: grid };
      const t = tf.tensor2d(grid, [side, side]);
      try {
        return { map: upsample(t, size) };
      } finally {
        t.dispose();
      }
    },
  };
};

/** The cell mask of the segmented twin at the model size (cell-mask.ts); null when near-empty. */
async function loadMask(file: string, size: number, maxPixels: number): Promise<Uint8Array | null | 'missing'> {
  let rgb;
  try {
    rgb = await decodeRgb(await readImageFile(file, { extensions: ['jpg', 'jpeg', 'png', 'bmp', 'tif', 'tiff'], maxPixels, maxBytes: 1 << 30 }), { maxPixels });
  } catch {
    return 'missing';
  }
  return cellMask(await toModelInput(rgb, size, 'stretch'), size);
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export async function evaluateExplanations(
  bundle: LoadedBundle,
  req: XaiEvalRequest,
  hooks: { progress(done: number, total: number, message: string): void; checkpoint(): Promise<void> },
  /** Faster forward passes for the loaded model (not for its randomised copies). */
  fast: (image: Float32Array) => Promise<Pick<ExplainInput, 'forward' | 'featureMap' | 'inputGradients' | 'stageGradient'>> = async () => ({}),
): Promise<XaiEvalResult> {
  const { model, manifest } = bundle;
  const size = manifest.spec.inputSize;
  const classes = manifest.spec.classes;
  const data = await scanClassFolders(req.dataDir, req.extensions);
  // Prefer the images the model never trained on: its test part, else its validation part.
  let pool = data.samples.map((s) => s.file);
  let source = 'all images of the folder';
  const splitFile = path.join(bundle.dir, 'split.json');
  const trainedOn = (manifest.training as { dataDir?: string } | null)?.dataDir;
  if (trainedOn && path.resolve(trainedOn) === path.resolve(req.dataDir) && (await fs.stat(splitFile).catch(() => null))) {
    const split = await readSplit(splitFile, data);
    const useTest = req.part === 'test' && split.test.length > 0;
    pool = useTest ? split.test : split.val;
    source = useTest ? "the model's test part" : "the model's validation part";
  }
  const chosen = shuffle(pool, rng(req.seed)).slice(0, req.limit);
  const methods: Array<ExplanationMethod<object>> = [
    ...req.methods.map(methodByName),
    noiseMap('random', req.seed, (size) => size),
    noiseMap('random-smooth', req.seed + 1, (size) => Math.max(2, Math.round(size / 32))),
  ];
  const acc = new Map(
    methods.map((m) => [
      m.name,
      { del: [] as number[], ins: [] as number[], hit: [] as number[], mass: [] as number[], rho: [] as number[], constant: 0, corner: [] as number[], ms: [] as number[], agreement: [] as number[] },
    ]),
  );
  const masks = { used: 0, skippedNearlyEmpty: 0, missing: 0 };
  const corner = cornerMask(size);
  const total = chosen.length;
  for (const [i, file] of chosen.entries()) {
    await hooks.checkpoint();
    hooks.progress(i, total, file);
    const image = await toModelInput(
      await decodeRgb(await readImageFile(path.join(req.dataDir, file), { extensions: req.extensions, maxPixels: req.maxPixels, maxBytes: 1 << 30 }), { maxPixels: req.maxPixels }),
      size,
      manifest.preprocessing.resize,
    );
    const probs = tf.tidy(() => toClassProbabilities((model.predict(tf.tensor4d(image, [1, size, size, 3])) as tf.Tensor).dataSync() as Float32Array, 1, classes.length)[0]);
    const target = argmax(probs);
    let mask: Uint8Array | null = null;
    if (req.masksDir) {
      const m = await loadMask(path.join(req.masksDir, file), size, req.maxPixels);
      if (m === 'missing') masks.missing++;
      else if (m === null) masks.skippedNearlyEmpty++;
      else {
        mask = m;
        masks.used++;
      }
    }
    for (const method of methods) {
      await measureMethod(bundle, req, method, { image, target, mask, corner, first: i < req.sanityImages, seed: req.seed + i }, acc.get(method.name)!, fast, hooks);
    }
  }
  hooks.progress(total, total, 'done');
  return { model: manifest.id, images: chosen.length, source, masks, rows: rowsOf(methods, acc, req.seed) };
}

type Figures = { del: number[]; ins: number[]; hit: number[]; mass: number[]; rho: number[]; constant: number; corner: number[]; ms: number[]; agreement: number[] };

interface ImageUnderTest {
  image: Float32Array;
  target: number;
  mask: Uint8Array | null;
  corner: Uint8Array;
  /** Among the first req.sanityImages: the slower checks (randomisation, run-to-run agreement) run on it. */
  first: boolean;
  seed: number;
}

/** One method on one image: the faithfulness curves, the localisation, and on the first images the slower checks. */
async function measureMethod(
  bundle: LoadedBundle,
  req: XaiEvalRequest,
  method: ExplanationMethod<object>,
  at: ImageUnderTest,
  a: Figures,
  fast: (image: Float32Array) => Promise<Pick<ExplainInput, 'forward' | 'featureMap' | 'inputGradients' | 'stageGradient'>>,
  hooks: { checkpoint(): Promise<void> },
): Promise<void> {
  const { model, manifest } = bundle;
  const [size, classes] = [manifest.spec.inputSize, manifest.spec.classes];
  const options = req.options[method.name] ?? {};
  const input = { model, classes, image: at.image, size, target: at.target };
  const h = await explain(method, { ...input, ...(await fast(at.image)) }, options, { checkpoint: hooks.checkpoint });
  a.ms.push(h.ms);
  a.corner.push(relevanceMass(h.values, at.corner));
  a.del.push(await deletionAuc(model, classes.length, at.target, at.image, h.values, size));
  a.ins.push(await insertionAuc(model, classes.length, at.target, at.image, h.values, size));
  if (at.mask) {
    a.hit.push(pointingGame(h.values, at.mask, size, Math.round(size / 28)) ? 1 : 0);
    a.mass.push(relevanceMass(h.values, at.mask));
  }
  if (!at.first || method.name.startsWith('random')) return;
  // Cascading randomisation of the top layers (the head and the last block) on a fresh copy.
  const copy = await loadBundle(bundle.dir);
  randomiseLayers(layersFromTop(copy.model).slice(0, 8), at.seed);
  const r = await explain(method, { ...input, model: copy.model }, options);
  copy.model.dispose();
  const rho = randomisationCorrelation(h.values, r.values);
  if (rho === null) a.constant++;
  else a.rho.push(rho);
  // A sampled method (LIME) run again with the next seed: how much of its ranking is the draw's.
  const seed = (options as { seed?: number }).seed ?? (method.defaults as { seed?: number }).seed;
  if (typeof seed !== 'number') return;
  const again = await explain(method, { ...input, ...(await fast(at.image)) }, { ...options, seed: seed + 1 }, { checkpoint: hooks.checkpoint });
  const agreement = randomisationCorrelation(h.values, again.values);
  if (agreement !== null) a.agreement.push(agreement);
}

/** One row a method: the means, their intervals, and the comparison with the method's floor. */
function rowsOf(methods: Array<ExplanationMethod<object>>, acc: Map<string, Figures>, seed: number): XaiRow[] {
  return methods.map((m) => {
    const a = acc.get(m.name)!;
    const floor = floorOf(m.name);
    return {
      method: m.name,
      images: a.ms.length,
      deletionAuc: mean(a.del),
      insertionAuc: mean(a.ins),
      pointingGame: a.hit.length ? mean(a.hit) : null,
      relevanceMass: a.mass.length ? mean(a.mass) : null,
      randomisationSpearman: a.rho.length ? mean(a.rho) : null,
      randomisationConstant: a.constant,
      runToRunSpearman: a.agreement.length ? mean(a.agreement) : null,
      cornerMass: mean(a.corner),
      ms: mean(a.ms),
      intervals: { deletionAuc: bootstrap(a.del, seed), insertionAuc: bootstrap(a.ins, seed + 1), pointingGame: bootstrap(a.hit, seed + 2), relevanceMass: bootstrap(a.mass, seed + 3) },
      vsFloor: floor ? compareWithFloor(a, acc.get(floor)!, floor, seed + 4) : null,
    };
  });
}

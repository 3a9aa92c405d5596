// A training run's data: the class folders (optionally the first n of each class), the split (from
// the checkpoint when resuming, so that it cannot drift), every image read once into memory, the labels
// and the class weights.
import fs from 'node:fs/promises';
import path from 'node:path';
import { classWeights, fileNumber, makeSplit, readSplit, scanClassFolders, type ClassFolders, type Split } from './dataset.js';
import { loadImages, type CachedImages } from './image-cache.js';
import { blurAndNoise, cellsOnBlack, stainJitter, zoomOnCell } from './domain-augment.js';
import { colorJitter, dihedral, pickTransform } from './augment.js';
import { loadCellMasks, swapBackground } from './background-swap.js';
import { writeOutsideGrid } from './mask-penalty.js';
import type { TrainOptions, TrainProgress } from './options.js';

export type Say = (message: string, extra?: Partial<TrainProgress>) => void;

export interface RunData {
  data: ClassFolders;
  classes: string[];
  negativeClass: string | null;
  split: Split;
  cache: CachedImages;
  /** Class index of every cached image: train, then val, then test. */
  labels: number[];
  trainIdx: number[];
  valIdx: number[];
  testIdx: number[];
  weightsPerClass: number[];
  /** The training images' cell masks (by cache index) and those that have one, for the background swap
   *  and the localisation penalty. */
  backgrounds: Backgrounds | null;
}

export interface Backgrounds {
  masks: Array<Uint8Array | null>;
  pool: number[];
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

async function chooseSplit(o: TrainOptions, data: ClassFolders): Promise<Split> {
  const splitFile = path.join(o.outDir, 'split.json');
  let split: Split;
  if (o.resume && (await fs.stat(splitFile).catch(() => null))) split = await readSplit(splitFile, data);
  else if (o.split.startsWith('file:')) split = await readSplit(o.split.slice(5), data);
  else split = makeSplit(data, { method: o.split as 'blocks' | 'stratified', valFraction: o.valSplit, testFraction: o.testSplit, seed: o.seed, blockSize: o.split === 'blocks' ? o.blockSize : 1 });
  if (!split.train.length) throw new Error('the training part of the split is empty');
  await fs.mkdir(o.outDir, { recursive: true });
  await fs.writeFile(splitFile, JSON.stringify(split, null, 1));
  return split;
}

export async function prepareData(o: TrainOptions, say: Say): Promise<RunData> {
  const scanned: ClassFolders = await scanClassFolders(o.dataDir, o.extensions, o.classes ?? undefined, o.classes !== null);
  const data: ClassFolders = o.limitPerClass ? limitPerClass(scanned, o.limitPerClass) : scanned;
  const classes = data.classes;
  const labelOf = new Map(data.samples.map((s) => [s.file, s.label]));
  const split = await chooseSplit(o, data);
  const files = [...split.train, ...split.val, ...split.test];
  say(`reading ${files.length} images at ${o.imgSize} px`);
  const limits = { extensions: o.extensions, maxPixels: o.maxPixels, maxBytes: Number.MAX_SAFE_INTEGER };
  const cache = await loadImages(o.dataDir, files, o.imgSize, o.resize, limits, (done, total) => say(`reading images ${done}/${total}`, { step: done, steps: total }));
  const trainIdx = split.train.map((_, i) => i);
  const labels = files.map((f) => labelOf.get(f)!);
  let backgrounds: Backgrounds | null = null;
  if ((o.augment.backgroundSwap || o.augment.zoom || o.augment.black || o.maskPenalty) && o.cellMasks) {
    const masks = await loadCellMasks(o.cellMasks, split.train, o.imgSize, o.resize, limits);
    backgrounds = { masks, pool: trainIdx.filter((i) => masks[i]) };
    say(`cell masks for ${backgrounds.pool.length} of ${split.train.length} training images (the others keep their surroundings)`);
  }
  return {
    data,
    classes,
    negativeClass: o.negativeClass && classes.includes(o.negativeClass) ? o.negativeClass : null,
    split,
    cache,
    labels,
    trainIdx,
    valIdx: split.val.map((_, i) => split.train.length + i),
    testIdx: split.test.map((_, i) => split.train.length + split.val.length + i),
    backgrounds,
    weightsPerClass: classWeights(
      trainIdx.map((i) => labels[i]),
      classes.length,
    ),
  };
}

/** Where makeBatch writes each image's outside-the-cells grid (side × side, moved as the image): mask-penalty.ts. */
export interface OutsideGrids {
  side: number;
  grid: Float32Array;
}

/** Packs images idx into one float batch, augmented with `random` when given. */
export function makeBatch(
  cache: CachedImages,
  idx: number[],
  opts: TrainOptions['augment'] | null,
  random: () => number,
  backgrounds: Backgrounds | null = null,
  outside: OutsideGrids | null = null,
): Float32Array {
  const { size, stride, pixels } = cache;
  const out = new Float32Array(idx.length * stride);
  const image = (i: number) => pixels.subarray(i * stride, (i + 1) * stride);
  idx.forEach((i, k) => {
    let src = image(i);
    const mask = backgrounds?.masks[i];
    if (opts?.backgroundSwap && backgrounds && mask && random() < opts.backgroundSwap) {
      const j = backgrounds.pool[Math.floor(random() * backgrounds.pool.length)];
      if (j !== i) src = swapBackground(src, mask, image(j), backgrounds.masks[j]!);
    }
    // A zoomed image's mask no longer fits it: it adds nothing to the penalty.
    let kept = mask;
    if (opts?.black && mask && random() < opts.black) src = cellsOnBlack(src, mask);
    else if (opts?.zoom && random() < opts.zoom) [src, kept] = [zoomOnCell(src, mask ?? null, size, random), undefined];
    const t = opts ? pickTransform(opts, random) : 0;
    dihedral(src, out, k * stride, size, t, 1 / 255);
    // No mask: the grid stays 0, and the image adds nothing to the penalty.
    if (outside && kept) writeOutsideGrid(kept, size, outside.side, t, outside.grid, k * outside.side ** 2);
    if (opts) colorJitter(out, k * stride, size * size, opts.colorJitter, random);
    if (opts?.stain) stainJitter(out, k * stride, size * size, opts.stain, random);
    if (opts?.blur && random() < opts.blur) blurAndNoise(out, k * stride, size, random);
  });
  return out;
}

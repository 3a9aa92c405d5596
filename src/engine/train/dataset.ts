// Training data: class folders in, a reproducible train / validation / test split out.
// The Taleqani set holds near-duplicates at neighbouring file numbers, so the default split keeps blocks
// of consecutive numbers together; a random split would put twins on both sides and inflate the figures.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { hasImageExtension } from '../../ingest/image.js';
import { rng, shuffle } from '../../core/random.js';
import { checkClassNames } from '../../core/class-name.js';

export interface Sample {
  /** Path relative to the data folder, with forward slashes. */
  file: string;
  label: number;
}

export interface ClassFolders {
  root: string;
  classes: string[];
  samples: Sample[];
}

/**
 * Lists dir/<class>/<image> (recursively within each class folder), classes in alphabetical order, or as
 * `classes` names them; `allowEmpty`: a named class may have no folder or no images (a retrain's labels).
 */
export async function scanClassFolders(root: string, extensions: readonly string[], classes?: string[], allowEmpty = false): Promise<ClassFolders> {
  let entries;
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new Error(`cannot read the data folder ${root}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const found = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const names = classes ?? found;
  checkClassNames(names);
  const missing = names.filter((c) => !found.includes(c));
  if (missing.length && !allowEmpty) throw new Error(`${root} has no folder for class(es) ${missing.join(', ')}`);
  if (names.length < 2) throw new Error(`${root} needs at least two class folders, found ${found.length ? found.join(', ') : 'none'}`);
  const samples: Sample[] = [];
  for (const [label, name] of names.entries()) {
    if (missing.includes(name)) continue;
    const files = (await fs.readdir(path.join(root, name), { recursive: true })).map(String).filter((f) => hasImageExtension(f, extensions) && !path.basename(f).startsWith('.'));
    if (!files.length && !allowEmpty) throw new Error(`class folder ${path.join(root, name)} holds no images`);
    for (const f of files.sort()) samples.push({ file: `${name}/${f.split(path.sep).join('/')}`, label });
  }
  if (!samples.length) throw new Error(`${root} holds no images in its class folders`);
  return { root, classes: names, samples };
}

/** The last number in a file name (WBC-Malignant-Pro-642.jpg → 642); files without one sort by name. */
export function fileNumber(file: string): number | null {
  const m = path.basename(file).match(/(\d+)(?!.*\d)/);
  return m ? Number(m[1]) : null;
}

/** The bootstrap draws of a run's held-out intervals, seeded from the run's seed (bench:uncertainty repeats them). */
export const intervalRandom = (seed: number) => rng(seed * 101 + 7);

export const splitSchema = z.object({
  method: z.string(),
  seed: z.number(),
  train: z.array(z.string()),
  val: z.array(z.string()),
  test: z.array(z.string()),
});
export type Split = z.infer<typeof splitSchema>;

export interface SplitOptions {
  method: 'blocks' | 'stratified';
  valFraction: number;
  testFraction: number;
  seed: number;
  /** Consecutive file numbers per block (blocks method). */
  blockSize: number;
}

/**
 * Per class (in class order), the units a split deals out: blocks of consecutive file numbers, or single
 * files for 'stratified'. Images in one block are near-duplicates, so the block, not the image, is the
 * independent unit when a held-out figure's uncertainty is estimated (bench:uncertainty).
 */
export function splitUnits(data: ClassFolders, method: 'blocks' | 'stratified', blockSize: number): string[][][] {
  return data.classes.map((_, label) => {
    const files = data.samples.filter((s) => s.label === label).map((s) => s.file);
    files.sort((a, b) => (fileNumber(a) ?? Infinity) - (fileNumber(b) ?? Infinity) || (a < b ? -1 : 1));
    if (method === 'stratified') return files.map((f) => [f]);
    // At least ten blocks per class, so that a small class can still be split three ways.
    const size = Math.min(blockSize, Math.max(1, Math.floor(files.length / 10)));
    const units: string[][] = [];
    for (let i = 0; i < files.length; i += size) units.push(files.slice(i, i + size));
    return units;
  });
}

/**
 * file → its unit for a split made by `method` ("blocks of N" as this program writes it; any other split
 * counts each image as its own unit).
 */
export function unitOfFile(data: ClassFolders, method: string): Map<string, string> {
  const size = Number(/^blocks of (\d+)$/.exec(method)?.[1] ?? 0);
  const out = new Map<string, string>();
  splitUnits(data, size > 0 ? 'blocks' : 'stratified', size || 1).forEach((units, c) => units.forEach((unit, u) => unit.forEach((f) => out.set(f, `${data.classes[c]}:${u}`))));
  return out;
}

/**
 * Per class: cut the files (by number) into blocks, or single files for 'stratified', shuffle those units
 * with the seed and deal them to test, then validation, until each holds its fraction of the class.
 */
export function makeSplit(data: ClassFolders, opts: SplitOptions): Split {
  const random = rng(opts.seed);
  const out: Split = { method: opts.method === 'blocks' ? `blocks of ${opts.blockSize}` : 'stratified', seed: opts.seed, train: [], val: [], test: [] };
  splitUnits(data, opts.method, opts.blockSize).forEach((units) => {
    const files = units.flat();
    const order = shuffle(units, random);
    const wantTest = Math.round(files.length * opts.testFraction);
    const wantVal = Math.round(files.length * opts.valFraction);
    let test = 0;
    let val = 0;
    for (const unit of order) {
      if (test < wantTest) {
        out.test.push(...unit);
        test += unit.length;
      } else if (val < wantVal) {
        out.val.push(...unit);
        val += unit.length;
      } else {
        out.train.push(...unit);
      }
    }
  });
  return out;
}

/** Reads an explicit split: JSON {train, val, test} with paths relative to the data folder. */
export async function readSplit(file: string, data: ClassFolders): Promise<Split> {
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the split file ${file}: ${(err as Error).message}`);
  }
  const parsed = splitSchema.partial({ method: true, seed: true, test: true }).safeParse(json);
  if (!parsed.success) throw new Error(`split file ${file} must hold {"train": [...], "val": [...], "test"?: [...]} of paths relative to the data folder`);
  const known = new Set(data.samples.map((s) => s.file));
  const all = [...parsed.data.train, ...parsed.data.val, ...(parsed.data.test ?? [])];
  const unknown = all.filter((f) => !known.has(f));
  if (unknown.length) throw new Error(`split file ${file} names ${unknown.length} file(s) not in ${data.root}, e.g. ${unknown[0]}`);
  if (new Set(all).size !== all.length) throw new Error(`split file ${file} lists a file in more than one part`);
  // A split this program wrote keeps its method and seed (a resumed run must not forget how it was made).
  return { method: parsed.data.method ?? `file:${file}`, seed: parsed.data.seed ?? 0, train: parsed.data.train, val: parsed.data.val, test: parsed.data.test ?? [] };
}

/** Balanced class weights from the training part: n / (k · n_c), as scikit-learn's 'balanced'. */
export function classWeights(labels: number[], k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const y of labels) counts[y]++;
  return counts.map((c) => (c ? labels.length / (k * c) : 0));
}

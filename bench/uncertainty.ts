// `npm run bench:uncertainty [-- --model DIR] [--compare DIR …] [--data DIR] [--write]`: how sure the
// held-out figures are. Reads the single-view predictions a bundle keeps (predictions.json) on its
// validation and test parts, and gives accuracy and the malignant-vs-benign AUC with 95% intervals from
// a bootstrap over the split's blocks of file numbers (near-duplicates sit in one block, so the block is
// the independent unit), as `train` now records them. With --compare, bundles of the same split are set
// against the first: the paired difference with its interval and the share of draws in which the first
// model is ahead. --write records the intervals in the manifest of a bundle made before `train` did.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { updateManifest } from '../src/engine/bundle.js';
import { accuracyOf, binaryAucOf, clusterBootstrap, heldOutIntervals, type Interval } from '../src/engine/metrics.js';
import { intervalRandom, scanClassFolders, unitOfFile, type Split } from '../src/engine/train/dataset.js';
import type { PartPredictions } from '../src/engine/train/trainer.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, compare: { type: 'string', multiple: true }, data: { type: 'string' }, write: { type: 'boolean' } } });
const config = loadConfig({ overrides: values.model ? { model: values.model } : {} });
const PARTS = ['val', 'test'] as const;

interface Held {
  id: string;
  dir: string;
  manifest: { metrics?: Record<string, Record<string, unknown> | null> | null; training?: { seed?: number; options?: { seed?: number; negativeClass?: string | null }; dataDir?: string } };
  classes: string[];
  negative: number;
  split: Split;
  parts: Record<'val' | 'test', PartPredictions | null>;
}

async function readHeld(dir: string): Promise<Held> {
  const json = async (file: string, missing: string) => JSON.parse(await fs.readFile(path.join(dir, file), 'utf8').catch(() => Promise.reject(new Error(`${dir} has no ${file}: ${missing}`))));
  const manifest = await json('manifest.json', 'not a model bundle');
  const split: Split = await json('split.json', 'it was not made by slidetriage train');
  const predictions = await json('predictions.json', 'it was made before held-out predictions were kept');
  const parts = { val: null, test: null } as Held['parts'];
  for (const part of PARTS) {
    const p = predictions[part] as PartPredictions | null;
    // Bundles from before `files` was written keep the split's order.
    if (p) parts[part] = { ...p, files: p.files ?? split[part] };
    if (p && parts[part]!.files.length !== p.labels.length) throw new Error(`${dir}: predictions.json and split.json disagree on the ${part} part`);
  }
  const classes: string[] = manifest.spec.classes;
  return { id: manifest.id, dir, manifest, classes, negative: classes.indexOf(manifest.training?.options?.negativeClass ?? ''), split, parts };
}

async function main(): Promise<void> {
  const first = await readHeld(config.model);
  const others = await Promise.all((values.compare ?? []).map(readHeld));
  const dataDir = path.resolve(values.data ?? first.manifest.training?.dataDir ?? '../shared/data/taleqani');
  const data = await scanClassFolders(dataDir, config.images.extensions, first.classes).catch((err: Error) => {
    throw new Error(`the blocks come from the data folder the model was trained on: ${err.message} (name it with --data)`);
  });
  const unitOf = unitOfFile(data, first.split.method);
  const groupsOf = (p: PartPredictions) => p.files.map((f) => unitOf.get(f) ?? f);
  // The draws `train` makes, so that --write records what train would have.
  const seed = first.manifest.training?.options?.seed ?? 42;

  const pct = (v: number) => (v * 100).toFixed(2);
  const show = (r: Interval, f: (v: number) => string) => `${f(r.estimate)} [${f(r.low)}, ${f(r.high)}]`;

  console.log(`${first.id}: single-view predictions; 95% intervals from 2000 bootstrap draws of the split's units (${first.split.method})`);
  console.log('| part | images | units | accuracy % | malignant-vs-benign AUC |');
  console.log('|---|---|---|---|---|');
  const metrics = { ...(first.manifest.metrics ?? {}) };
  for (const part of PARTS) {
    const p = first.parts[part];
    if (!p) continue;
    const i = heldOutIntervals(p.probabilities, p.labels, groupsOf(p), first.negative, intervalRandom(seed));
    console.log(`| ${part} | ${p.files.length} | ${i.units} | ${show(i.accuracy, pct)} | ${i.binaryAuc ? show(i.binaryAuc, (v) => v.toFixed(4)) : '–'} |`);
    if (metrics[part]) metrics[part] = { ...metrics[part], intervals: i };
  }
  if (values.write) {
    await updateManifest(first.dir, { metrics });
    console.log(`intervals recorded in ${path.join(first.dir, 'manifest.json')}`);
  }

  if (others.length) {
    console.log(`\nPaired differences, ${first.id} minus each (same images, same draws; "ahead" = share of draws where the first is better):`);
    console.log('| part | other model | accuracy difference, points | ahead | AUC difference | ahead |');
    console.log('|---|---|---|---|---|---|');
    for (const other of others) {
      for (const part of PARTS) {
        const a = first.parts[part];
        const b = other.parts[part];
        if (!a || !b) continue;
        if (a.files.join('\n') !== b.files.join('\n')) throw new Error(`${other.dir} was tested on other ${part} images than ${first.dir}: only bundles of one split compare`);
        const [accA, accB] = [accuracyOf(a.probabilities, a.labels), accuracyOf(b.probabilities, b.labels)];
        const [aucA, aucB] = [binaryAucOf(a.probabilities, a.labels, first.negative), binaryAucOf(b.probabilities, b.labels, other.negative)];
        const opts = { random: intervalRandom(seed) };
        const dAcc = clusterBootstrap(groupsOf(a), (idx) => accA(idx) - accB(idx), opts);
        const dAuc = clusterBootstrap(groupsOf(a), (idx) => aucA(idx) - aucB(idx), opts);
        console.log(`| ${part} | ${other.id} | ${show(dAcc, pct)} | ${(dAcc.aboveZero * 100).toFixed(0)}% | ${show(dAuc, (v) => v.toFixed(4))} | ${(dAuc.aboveZero * 100).toFixed(0)}% |`);
      }
    }
  }
}

// Bad input (no bundle, no data folder, bundles of different splits) ends with one line, not a stack.
await main().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  process.exitCode = 1;
});

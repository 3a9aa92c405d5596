// `npm run bench:uncertainty [-- --model DIR] [--compare DIR …] [--data DIR] [--draws 2000]`: how sure
// the held-out figures are. Reads the single-view predictions a bundle keeps (predictions.json) on its
// validation and test parts, and gives accuracy and the malignant-vs-benign AUC with 95% intervals from
// a bootstrap over the split's blocks of file numbers (near-duplicates sit in one block, so the block is
// the independent unit). With --compare, bundles of the same split are set against the first: the paired
// difference with its interval and the share of draws in which the first model is ahead.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { argmax, clusterBootstrap, rocAuc, type Interval } from '../src/engine/metrics.js';
import { rng, scanClassFolders, splitUnits, type Split } from '../src/engine/train/dataset.js';
import type { PartPredictions } from '../src/engine/train/trainer.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, compare: { type: 'string', multiple: true }, data: { type: 'string' }, draws: { type: 'string' } } });
const config = loadConfig({ overrides: values.model ? { model: values.model } : {} });
const draws = Number(values.draws ?? 2000);

interface Held {
  id: string;
  dir: string;
  classes: string[];
  negative: string | null;
  dataDir: string;
  split: Split;
  parts: Record<'val' | 'test', PartPredictions | null>;
}

async function readHeld(dir: string): Promise<Held> {
  const json = async (file: string) => JSON.parse(await fs.readFile(path.join(dir, file), 'utf8'));
  const manifest = await json('manifest.json');
  const split: Split = await json('split.json').catch(() => {
    throw new Error(`${dir} has no split.json: it was not made by slidetriage train`);
  });
  const predictions = await json('predictions.json').catch(() => {
    throw new Error(`${dir} has no predictions.json: it was made before held-out predictions were kept`);
  });
  const parts = { val: null, test: null } as Held['parts'];
  for (const part of ['val', 'test'] as const) {
    const p = predictions[part] as PartPredictions | null;
    // Bundles from before `files` was written keep the split's order.
    if (p) parts[part] = { ...p, files: p.files ?? split[part] };
    if (p && parts[part]!.files.length !== p.labels.length) throw new Error(`${dir}: predictions.json and split.json disagree on the ${part} part`);
  }
  return { id: manifest.id, dir, classes: manifest.spec.classes, negative: manifest.training?.options?.negativeClass ?? null, dataDir: manifest.training?.dataDir, split, parts };
}

const first = await readHeld(config.model);
const others = await Promise.all((values.compare ?? []).map(readHeld));
const dataDir = path.resolve(values.data ?? first.dataDir ?? '../shared/data/taleqani');
const data = await scanClassFolders(dataDir, config.images.extensions, first.classes).catch((err: Error) => {
  throw new Error(`the blocks come from the data folder the model was trained on: ${err.message} (name it with --data)`);
});
const blockSize = Number(/blocks of (\d+)/.exec(first.split.method)?.[1] ?? 1);
const blockOf = new Map<string, string>();
splitUnits(data, blockSize > 1 ? 'blocks' : 'stratified', blockSize).forEach((units, c) => units.forEach((unit, u) => unit.forEach((f) => blockOf.set(f, `${c}:${u}`))));

const accuracy = (p: PartPredictions) => (idx: number[]) => idx.filter((i) => argmax(p.probabilities[i]) === p.labels[i]).length / idx.length;
function binaryAuc(p: PartPredictions, classes: string[], negative: string | null) {
  const neg = negative === null ? -1 : classes.indexOf(negative);
  return (idx: number[]) => (neg < 0 ? NaN : rocAuc(idx.map((i) => 1 - p.probabilities[i][neg]), idx.map((i) => p.labels[i] !== neg)));
}
const pct = (v: number) => (v * 100).toFixed(2);
const show = (r: Interval, f: (v: number) => string) => `${f(r.estimate)} [${f(r.low)}, ${f(r.high)}]`;
const boot = (groups: string[], stat: (idx: number[]) => number) => clusterBootstrap(groups, stat, { draws, random: rng(7) });

console.log(`${first.id}: single-view predictions; 95% intervals from ${draws} bootstrap draws of the split's ${blockSize > 1 ? `blocks of ${blockSize} file numbers` : 'images'}`);
console.log('| part | images | blocks | accuracy % | malignant-vs-benign AUC |');
console.log('|---|---|---|---|---|');
for (const part of ['val', 'test'] as const) {
  const p = first.parts[part];
  if (!p) continue;
  const groups = p.files.map((f) => blockOf.get(f) ?? `unknown:${f}`);
  const auc = binaryAuc(p, first.classes, first.negative);
  console.log(`| ${part} | ${p.files.length} | ${new Set(groups).size} | ${show(boot(groups, accuracy(p)), pct)} | ${first.negative ? show(boot(groups, auc), (v) => v.toFixed(4)) : '–'} |`);
}

if (others.length) {
  console.log(`\nPaired differences, ${first.id} minus each (same images, same draws; "ahead" = share of draws where the first is better):`);
  console.log('| part | other model | accuracy difference, points | ahead | AUC difference | ahead |');
  console.log('|---|---|---|---|---|---|');
  for (const other of others) {
    for (const part of ['val', 'test'] as const) {
      const a = first.parts[part];
      const b = other.parts[part];
      if (!a || !b) continue;
      if (a.files.join('\n') !== b.files.join('\n')) throw new Error(`${other.dir} was tested on other ${part} images than ${first.dir}: only bundles of one split compare`);
      const groups = a.files.map((f) => blockOf.get(f) ?? `unknown:${f}`);
      const accA = accuracy(a);
      const accB = accuracy(b);
      const aucA = binaryAuc(a, first.classes, first.negative);
      const aucB = binaryAuc(b, other.classes, other.negative);
      const dAcc = boot(groups, (idx) => accA(idx) - accB(idx));
      const dAuc = boot(groups, (idx) => aucA(idx) - aucB(idx));
      console.log(`| ${part} | ${other.id} | ${show(dAcc, pct)} | ${(dAcc.aboveZero * 100).toFixed(0)}% | ${show(dAuc, (v) => v.toFixed(4))} | ${(dAuc.aboveZero * 100).toFixed(0)}% |`);
    }
  }
}

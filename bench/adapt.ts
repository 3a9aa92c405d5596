// `npm run bench:adapt [-- --domain segmented|cnmc --models DIR,DIR --sizes 4,8,16,32,64 --modes head,full
// --repeats R --out FILE]`: how fast a model adapts to images unlike its training images from a
// technician's corrections. For each model, mode and number of corrections (split evenly over the
// classes, R random draws), retrain on the corrections and score on the domain's other images.
//
// Domains:
// - segmented: the Taleqani twins with the cell cut out on black (../shared/data/taleqani-segmented),
//   which the out-of-distribution check flags every time; only the split's test part (never trained on),
//   four classes; images within 2 file numbers of a correction (near-duplicates) are not scored.
// - cnmc: C-NMC 2019 single cells (../shared/data/cnmc-fold0), hem vs all, 20 images (sizes up to 16).
// The figure is binary accuracy (malignant vs benign), as the other lab's figures are given.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { EngineClient } from '../src/engine/client.js';
import { prepareImage } from '../src/ingest/image.js';
import { fileNumber } from '../src/engine/train/dataset.js';
import { rng, shuffle } from '../src/core/random.js';
import type { RetrainLabel } from '../src/engine/retrain/types.js';

const { values } = parseArgs({
  options: {
    domain: { type: 'string' },
    models: { type: 'string' },
    sizes: { type: 'string' },
    modes: { type: 'string' },
    repeats: { type: 'string' },
    split: { type: 'string' },
    out: { type: 'string' },
  },
});
const config = loadConfig({});
const domain = values.domain ?? 'segmented';
const models = (values.models ?? 'models/default').split(',').map((m) => path.resolve(m));
const modes = (values.modes ?? 'head').split(',') as Array<'head' | 'full'>;
const repeats = Number(values.repeats ?? 3);
const NEGATIVE = /^(benign|hem)$/i;

interface Item extends RetrainLabel {
  unit: string;
  number: number;
}

async function domainItems(): Promise<{ items: Item[]; classes: string[] }> {
  if (domain === 'cnmc') {
    const root = path.resolve('../shared/data/cnmc-fold0');
    const classes = ['hem', 'all'];
    const items = (await Promise.all(classes.map(async (c) => (await fs.readdir(path.join(root, c))).sort().map((f, i) => item(path.join(root, c, f), c, i))))).flat();
    return { items, classes };
  }
  const root = path.resolve('../shared/data/taleqani-segmented');
  const split = JSON.parse(await fs.readFile(values.split ?? 'models/default/split.json', 'utf8')) as { test: string[] };
  const items: Item[] = [];
  for (const f of split.test) {
    // A failed segmentation (nearly all black, most often the pale Pro stain) has no cell to learn from.
    const prepared = await prepareImage(path.join(root, f), config.images, 64, 'stretch');
    if (prepared.input.filter((v) => v > 0.2).length < 0.01 * prepared.input.length) continue;
    items.push(item(path.join(root, f), f.split('/')[0], fileNumber(f) ?? 0));
  }
  return { items, classes: ['Benign', 'Early', 'Pre', 'Pro'] };
}

function item(file: string, label: string, number: number): Item {
  return { file, label, sha256: path.basename(file), decidedAt: new Date(0).toISOString(), technician: 'bench', unit: label, number };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

const { items: all, classes } = await domainItems();
const sizes = (values.sizes ?? (domain === 'cnmc' ? '4,8,16' : '4,8,16,32,64')).split(',').map(Number);
const engine = new EngineClient();
const rows: Array<{ model: string; mode: string; labels: number; evaluated: number; before: number; after: number[]; seconds: number[] }> = [];
try {
  await engine.call('init', { backend: config.backend, threads: config.threads, runtime: config.runtime, onnxProvider: config.onnxProvider });
  for (const modelDir of models) {
    const model = await engine.call('load', { modelDir });
    const negative = model.classes.findIndex((c) => NEGATIVE.test(c));
    const inputs = await Promise.all(all.map(async (i) => (await prepareImage(i.file, config.images, model.inputSize, model.resize)).input));
    const { probabilities, ood } = await engine.call('classify', { inputs, batch: 8, tta: config.predict.tta });
    const right = all.map((it, i) => probabilities[i][negative] < 0.5 === !NEGATIVE.test(it.label));
    const flagged = ood.filter((o) => o?.unusual).length;
    process.stderr.write(`${model.id}: ${pct(mean(right.map(Number)))} binary before retraining on ${all.length} ${domain} images; ${flagged} flagged as unlike the training images\n`);
    for (const mode of modes) {
      for (const n of sizes) {
        const row = { model: model.id, mode, labels: n, evaluated: 0, before: 0, after: [] as number[], seconds: [] as number[] };
        const before: number[] = [];
        for (let r = 0; r < repeats; r++) {
          const random = rng(1000 * n + r);
          const chosen = classes.flatMap((c) =>
            shuffle(
              all.filter((i) => i.label === c),
              random,
            ).slice(0, Math.max(1, Math.round(n / classes.length))),
          );
          const near = (i: Item) => chosen.some((c) => c.unit === i.unit && Math.abs(c.number - i.number) <= 2);
          const rest = all.filter((i) => !chosen.includes(i) && !(domain === 'segmented' && near(i)));
          before.push(mean(rest.map((i) => Number(right[all.indexOf(i)]))));
          const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'slidetriage-adapt-'));
          try {
            const result = await engine.call('retrain', {
              modelDir,
              outDir,
              name: 'adapt',
              mode,
              train: chosen,
              heldOut: rest,
              classes,
              baseDataDir: null,
              epochs: mode === 'head' ? 60 : 8,
              batch: 32,
              lr: mode === 'head' ? 0.001 : 0.0001,
              seed: r,
              extensions: config.images.extensions,
              maxPixels: config.images.maxPixels,
              resize: model.resize,
            });
            const m = result.heldOut.candidate!;
            row.after.push(m.binary?.accuracy ?? m.accuracy);
            row.seconds.push(result.seconds);
            row.evaluated = rest.length;
            process.stderr.write(`${mode}, ${chosen.length} labels, draw ${r + 1}: ${pct(before.at(-1)!)} → ${pct(row.after.at(-1)!)} on ${rest.length} (${result.seconds.toFixed(1)} s)\n`);
          } finally {
            await fs.rm(outDir, { recursive: true, force: true });
          }
        }
        row.before = mean(before);
        rows.push(row);
      }
    }
  }
} finally {
  await engine.close();
}
const lines = [
  `bench:adapt — ${domain} (${all.length} images, classes ${classes.join('/')}), binary accuracy on the images not corrected, ${repeats} draws per size`,
  '| model | retraining | corrections | images scored | before | after, mean ± sd | retrain s (mean) |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.model} | ${r.mode} | ${r.labels} | ${r.evaluated} | ${pct(r.before)} | ${pct(mean(r.after))} ± ${(sd(r.after) * 100).toFixed(1)} | ${mean(r.seconds).toFixed(1)} |`),
];
for (const l of lines) process.stdout.write(l + '\n');
if (values.out) await fs.writeFile(values.out, JSON.stringify({ domain, repeats, rows }, null, 1) + '\n');

// `npm run bench:adapt [-- --data DIR --model DIR --repeats R]`: how fast a model adapts to a new kind
// of image from a technician's corrections. On the C-NMC 2019 single-cell images (../shared/data/
// cnmc-fold0, classes all and hem), unlike the Taleqani smears the default model learned from: the
// default model's binary accuracy (malignant = any ALL class) before retraining, then after head-only
// retraining with 4, 8, 12 and 16 labels (half per class, R random draws), each time on the images not
// used for retraining.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { EngineClient } from '../src/engine/client.js';
import { prepareImage } from '../src/ingest/image.js';
import { rng, shuffle } from '../src/engine/train/dataset.js';
import type { RetrainLabel } from '../src/engine/retrain/types.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, model: { type: 'string' }, repeats: { type: 'string' }, out: { type: 'string' } } });
const config = loadConfig({ overrides: values.model ? { model: values.model } : {} });
const dataDir = path.resolve(values.data ?? '../shared/data/cnmc-fold0');
const repeats = Number(values.repeats ?? 5);
const CLASSES = ['hem', 'all'];

async function items(): Promise<RetrainLabel[]> {
  const out: RetrainLabel[] = [];
  for (const label of CLASSES) {
    const dir = path.join(dataDir, label);
    for (const f of (await fs.readdir(dir)).sort()) {
      if (!/\.(bmp|png|jpe?g|tiff?)$/i.test(f)) continue;
      out.push({ file: path.join(dir, f), label, sha256: f, decidedAt: new Date(0).toISOString(), technician: 'bench' });
    }
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

const all = await items();
if (all.length < 20) throw new Error(`${dataDir} should hold class folders all/ and hem/ with 20 images`);
const engine = new EngineClient();
try {
  await engine.call('init', { backend: config.backend, threads: config.threads, runtime: config.runtime, onnxProvider: config.onnxProvider });
  const model = await engine.call('load', { modelDir: config.model });
  const negative = model.classes.findIndex((c) => /^benign$/i.test(c));
  if (negative < 0) throw new Error(`${model.id} has no Benign class to map hem onto`);
  // Before: the model's own malignant-vs-benign call on every image.
  const inputs = await Promise.all(all.map(async (i) => (await prepareImage(i.file, config.images, model.inputSize, model.resize)).input));
  const { probabilities } = await engine.call('classify', { inputs, batch: 8, tta: config.predict.tta });
  const saysAll = probabilities.map((p) => p[negative] < 0.5);
  const correctBefore = all.map((item, i) => saysAll[i] === (item.label === 'all'));
  process.stderr.write(`model ${model.id}: ${pct(mean(correctBefore.map(Number)))} of the ${all.length} images right before retraining\n`);

  const rows: Array<{ labels: number; evaluated: number; before: number; after: number[]; seconds: number[] }> = [];
  for (const n of [4, 8, 12, 16]) {
    const row = { labels: n, evaluated: all.length - n, before: 0, after: [] as number[], seconds: [] as number[] };
    const beforeRuns: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const random = rng(1000 * n + r);
      const chosen = CLASSES.flatMap((c) => shuffle(all.filter((i) => i.label === c), random).slice(0, n / 2));
      const rest = all.filter((i) => !chosen.includes(i));
      beforeRuns.push(mean(rest.map((i) => Number(correctBefore[all.indexOf(i)]))));
      const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'slidetriage-adapt-'));
      try {
        const result = await engine.call('retrain', {
          modelDir: config.model,
          outDir,
          name: 'adapt',
          mode: 'head',
          train: chosen,
          heldOut: rest,
          classes: CLASSES,
          baseDataDir: null,
          epochs: 60,
          batch: 32,
          lr: 0.001,
          seed: r,
          extensions: config.images.extensions,
          maxPixels: config.images.maxPixels,
          resize: model.resize,
        });
        row.after.push(result.heldOut.candidate!.accuracy);
        row.seconds.push(result.seconds);
        process.stderr.write(`${n} labels, draw ${r + 1}: ${pct(beforeRuns.at(-1)!)} → ${pct(result.heldOut.candidate!.accuracy)} on ${rest.length} images (${result.seconds.toFixed(1)} s)\n`);
      } finally {
        await fs.rm(outDir, { recursive: true, force: true });
      }
    }
    row.before = mean(beforeRuns);
    rows.push(row);
  }
  const lines = [
    `bench:adapt — ${model.id} on ${dataDir} (${all.length} images), head-only retraining, ${repeats} random draws per size`,
    '| corrected labels | images evaluated | before (binary call of the model) | after, mean ± sd | retrain s (mean) |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.labels} | ${r.evaluated} | ${pct(r.before)} | ${pct(mean(r.after))} ± ${(sd(r.after) * 100).toFixed(1)} | ${mean(r.seconds).toFixed(1)} |`),
  ];
  for (const l of lines) process.stdout.write(l + '\n');
  if (values.out) await fs.writeFile(values.out, JSON.stringify({ model: model.id, dataDir, repeats, rows }, null, 1) + '\n');
} finally {
  await engine.close();
}

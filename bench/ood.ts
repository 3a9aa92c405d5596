// `npm run bench:ood [-- --model DIR --data DIR]`: how well the model's out-of-distribution index tells
// slides like its training set from others. In distribution: the validation part (which set the
// threshold) and the test part of the bundle's split.json. Out of distribution: the C-NMC 2019 cells
// (another stain and scanner, single cells on black) and the segmented Taleqani test images (the same
// cells cut out on black: same stain, another kind of image). Prints the share flagged in each set and
// the ROC AUC of the score between the test part and each foreign set, for the bundle's k and others
// (the bundle's threshold rule applied to each: the 99th percentile of the validation scores).
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { loadBundle } from '../src/engine/bundle.js';
import { resolveBackend } from '../src/engine/tfjs/backend.js';
import { exportToOnnx } from '../src/engine/onnx/export.js';
import { OrtModel } from '../src/engine/onnx/ort-runtime.js';
import { knnDistance, quantile, unitRows } from '../src/engine/ood/knn.js';
import { extractFeatures } from '../src/engine/retrain/features.js';
import { prepareImage } from '../src/ingest/image.js';
import { rocAuc } from '../src/engine/metrics.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, data: { type: 'string' } } });
const config = loadConfig({ overrides: values.model ? { model: values.model } : {} });
const data = path.resolve(values.data ?? '../shared/data');
await resolveBackend('cpu'); // tfjs only loads and exports the model here; ONNX Runtime runs it
const bundle = await loadBundle(config.model);
if (!bundle.ood) throw new Error(`${config.model} has no out-of-distribution index (trained without a validation part, or before the index existed)`);
const { spec } = bundle.manifest;
const ort = await OrtModel.create(exportToOnnx(bundle.model).bytes, spec.inputSize, { threads: 0, provider: 'cpu' });
const split = JSON.parse(await fs.readFile(path.join(config.model, 'split.json'), 'utf8')) as { val: string[]; test: string[] };
const limits = { ...config.images, extensions: ['jpg', 'jpeg', 'png', 'bmp', 'tif', 'tiff'] };

async function features(files: string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const file of files) {
    const { input } = await prepareImage(file, limits, spec.inputSize, bundle.manifest.preprocessing.resize);
    const { features: row, k } = await extractFeatures(bundle, ort, [input], 1, async () => {});
    out.push(unitRows(row, k));
  }
  return out;
}

const cnmc = (await Promise.all(['all', 'hem'].map(async (c) => (await fs.readdir(path.join(data, 'cnmc-fold0', c))).sort().map((f) => path.join(data, 'cnmc-fold0', c, f))))).flat();
const sets: Record<string, string[]> = {
  val: split.val.map((f) => path.join(data, 'taleqani', f)),
  test: split.test.map((f) => path.join(data, 'taleqani', f)),
  'C-NMC': cnmc,
  segmented: split.test.map((f) => path.join(data, 'taleqani-segmented', f)),
};
const feats: Record<string, Float32Array[]> = {};
for (const [name, files] of Object.entries(sets)) {
  const t0 = performance.now();
  feats[name] = await features(files);
  console.error(`${name}: ${files.length} images, ${((performance.now() - t0) / files.length).toFixed(1)} ms each`);
}
await ort.dispose();

const { dim, k: bundleK } = bundle.ood.meta;
const auc = (inside: number[], outside: number[]) => rocAuc([...inside, ...outside], [...inside.map(() => false), ...outside.map(() => true)]);
const pct = (xs: number[], t: number) => `${((xs.filter((x) => x > t).length / xs.length) * 100).toFixed(1)}%`.padStart(7);
console.log(`${bundle.manifest.id}: ${bundle.ood.meta.n} training images in the index; flagged above the 99th percentile of the validation scores`);
console.log(`${'k'.padStart(5)} ${'threshold'.padStart(9)} ${'val'.padStart(7)} ${'test'.padStart(7)} ${'C-NMC'.padStart(7)} ${'segm.'.padStart(7)}  AUC test/C-NMC  AUC test/segm.`);
for (const k of [...new Set([1, 10, bundleK, 30, 100])].sort((a, b) => a - b)) {
  const s = Object.fromEntries(Object.entries(feats).map(([name, fs]) => [name, fs.map((f) => knnDistance(bundle.ood!.bank, dim, f, k))]));
  const t = quantile(s.val, bundle.ood.meta.quantile);
  console.log(
    `${String(k).padStart(5)} ${t.toFixed(4).padStart(9)} ${pct(s.val, t)} ${pct(s.test, t)} ${pct(s['C-NMC'], t)} ${pct(s.segmented, t)}  ${auc(s.test, s['C-NMC']).toFixed(4).padStart(13)}  ${auc(s.test, s.segmented).toFixed(4).padStart(14)}${k === bundleK ? '   ← the bundle' : ''}`,
  );
}
bundle.model.dispose();

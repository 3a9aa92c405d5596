// `npm run bench:heads [-- --models DIR,DIR --split FILE --data DIR]`: stage 1 of fine-tuning an imported
// ImageNet backbone, the head alone on cached features of the frozen backbone (8 views per image), for
// each head to compare (e.g. the paper's GMP → BN → Dense(256, L1/L2) → dropout against GAP → BN →
// dropout). `--keep DIR` keeps the trained bundles. Trained on the split's training part and scored on its validation part only: the head is
// chosen by validation, and the test part stays unseen.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { EngineClient } from '../src/engine/client.js';
import type { RetrainLabel } from '../src/engine/retrain/types.js';

const { values } = parseArgs({
  options: { models: { type: 'string' }, split: { type: 'string' }, data: { type: 'string' }, epochs: { type: 'string' }, out: { type: 'string' }, keep: { type: 'string' } },
});
const config = loadConfig({});
const dataDir = path.resolve(values.data ?? '../shared/data/taleqani');
if (!values.models) {
  process.stderr.write(
    'bench:heads needs --models A,B: bundles with the heads to compare, e.g.\n' +
      '  npx slidetriage import-weights ../shared/weights/efficientnet_lite0_imagenet_backbone_int8.tflite --arch lite0 --out runs/lite0-gap\n' +
      '  npx slidetriage import-weights ../shared/weights/efficientnet_lite0_imagenet_backbone_int8.tflite --arch lite0 --pooling max --dense 256 --out runs/lite0-paperhead\n' +
      '  npm run bench:heads -- --models runs/lite0-gap,runs/lite0-paperhead\n',
  );
  process.exit(2);
}
const models = values.models.split(',').map((m) => path.resolve(m));
const split = JSON.parse(await fs.readFile(values.split ?? 'models/default/split.json', 'utf8')) as { train: string[]; val: string[] };
const labelled = (files: string[]): RetrainLabel[] => files.map((f) => ({ file: path.join(dataDir, f), label: f.split('/')[0], sha256: f, decidedAt: new Date(0).toISOString(), technician: 'bench' }));
const pct = (x: number | undefined) => (x === undefined ? '–' : `${(x * 100).toFixed(2)}%`);

const engine = new EngineClient();
const rows: string[] = [];
const results: unknown[] = [];
try {
  await engine.call('init', { backend: config.backend, threads: config.threads, runtime: config.runtime, onnxProvider: config.onnxProvider });
  for (const modelDir of models) {
    const model = await engine.call('load', { modelDir });
    // --keep DIR keeps each trained bundle as DIR/<bundle name>: stage 1's model, to fine-tune from.
    const outDir = values.keep ? path.resolve(values.keep, path.basename(modelDir)) : await fs.mkdtemp(path.join(os.tmpdir(), 'slidetriage-heads-'));
    try {
      const r = await engine.call('retrain', {
        modelDir,
        outDir,
        name: 'head-stage',
        mode: 'head',
        train: labelled(split.train),
        heldOut: labelled(split.val),
        classes: model.classes,
        baseDataDir: null,
        epochs: Number(values.epochs ?? 40),
        batch: 32,
        lr: 0.001,
        seed: 1,
        extensions: config.images.extensions,
        maxPixels: config.images.maxPixels,
        resize: model.resize,
      });
      const m = r.heldOut.candidate!;
      const manifest = JSON.parse(await fs.readFile(path.join(modelDir, 'manifest.json'), 'utf8')) as { spec: { head: Record<string, unknown> } };
      const head = manifest.spec.head;
      rows.push(
        `| ${path.basename(modelDir)} | ${head.pooling} → ${head.batchNorm ? 'BN → ' : ''}${head.denseUnits ? `Dense ${head.denseUnits} → ` : ''}dropout ${head.dropout} | ${pct(m.accuracy)} | ${m.binary ? m.binary.auc.toFixed(4) : '–'} | ${pct(m.perClass.Benign?.recall)} | ${pct(m.ece)} | ${r.seconds.toFixed(0)} |`,
      );
      results.push({ model: modelDir, head, val: m, seconds: r.seconds });
      process.stderr.write(`${rows.at(-1)}\n`);
    } finally {
      if (!values.keep) await fs.rm(outDir, { recursive: true, force: true });
    }
  }
} finally {
  await engine.close();
}
const table = [
  `bench:heads — head only on frozen ImageNet features, trained on ${split.train.length} images, scored on the ${split.val.length} validation images`,
  '| bundle | head | val accuracy | val binary AUC | Benign recall | ECE | seconds |',
  '|---|---|---|---|---|---|---|',
  ...rows,
];
process.stdout.write(table.join('\n') + '\n');
if (values.out) await fs.writeFile(values.out, JSON.stringify(results, null, 1) + '\n');

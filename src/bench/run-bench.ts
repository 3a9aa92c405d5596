// `slidetriage bench`: the paper's comparison — every model trained and tested the same way (split,
// preprocessing, head, protocol), one table as Markdown, CSV and JSON, ROC curves and confusion matrices
// as SVG and PNG. Resumable per model: a finished model is read back, an interrupted one resumes.
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Config } from '../config.js';
import { confusionSvg, rocSvg, type Curve } from './charts.js';
import { rocCurve } from '../engine/metrics.js';
import { DISPLAY_NAMES, parseModelName, type Architecture } from '../engine/models/architectures.js';
import { readManifest } from '../engine/bundle.js';
import { TRAIN_DEFAULTS, type TrainOptions, type TrainProgress } from '../engine/train/options.js';
import type { PartPredictions } from '../engine/train/trainer.js';
import type { Output } from '../headless/output.js';
import { withEngine } from '../headless/with-engine.js';
import { benchTable, pct, type BenchRow } from './table.js';

export interface BenchOptions {
  dataDir: string;
  models: string[];
  imgSize: number;
  epochs: number;
  batch: number;
  /** Adamax's learning rate for every model (the paper's 0.001). */
  lr: number;
  limit: number | null;
  outDir: string;
  seed: number;
  negativeClass: string | null;
  /** blocks, or file:PATH (a split.json: the same test part as the model it came from). */
  split: string;
  /** Bundles to start models from, by model name (ImageNet weights); the others start from scratch. */
  init: Record<string, string>;
}

/** One protocol for every model: the split, preprocessing, head, optimiser and schedule differ in nothing but the start. */
async function trainOptionsFor(config: Config, o: BenchOptions, m: { name: string; architecture: Architecture; variant: string }, dir: string, backend: string): Promise<TrainOptions> {
  const init = o.init[m.name];
  const preprocessing = init ? (await readManifest(init)).spec.preprocessing : TRAIN_DEFAULTS.preprocessing;
  return {
    ...TRAIN_DEFAULTS,
    architecture: m.architecture,
    variant: (m.architecture === 'efficientnet' ? m.variant : 'b0') as TrainOptions['variant'],
    name: `bench-${m.name}`,
    dataDir: o.dataDir,
    outDir: dir,
    imgSize: o.imgSize,
    epochs: o.epochs,
    batch: o.batch,
    lr: o.lr,
    microBatch: Math.min(8, o.batch),
    limitPerClass: o.limit,
    valSplit: 0.15,
    testSplit: 0.2,
    split: o.split,
    init: init ? [init] : [],
    preprocessing,
    // From scratch, as the default model: moving statistics that keep up, and a cosine schedule.
    bnMomentum: 0.9,
    lrSchedule: 'cosine',
    ood: false, // a benchmark model is compared, never used for triage
    seed: o.seed,
    negativeClass: o.negativeClass,
    resume: await exists(path.join(dir, 'checkpoint', 'LATEST')),
    extensions: config.images.extensions,
    maxPixels: config.images.maxPixels,
    resize: config.images.resize,
    command: `slidetriage bench (${m.name})`,
    backend,
  };
}

function rocOf(p: PartPredictions, classes: string[], negative: string | null): Array<[number, number]> {
  const neg = negative ? classes.indexOf(negative) : -1;
  const pos = neg >= 0 ? -1 : classes.length === 2 ? 1 : 0;
  const scores = p.probabilities.map((row) => (neg >= 0 ? 1 - row[neg] : row[pos]));
  const positive = p.labels.map((y) => (neg >= 0 ? y !== neg : y === pos));
  return rocCurve(scores, positive);
}

async function exists(file: string): Promise<boolean> {
  return !!(await fs.stat(file).catch(() => null));
}

async function writeSvgPng(base: string, svg: string): Promise<void> {
  await fs.writeFile(`${base}.svg`, svg);
  await sharp(Buffer.from(svg)).png().toFile(`${base}.png`);
}

export async function runBench(config: Config, o: BenchOptions, out: Output): Promise<number> {
  const parsed = o.models.map((m) => ({ name: m, ...parseModelName(m) }));
  return withEngine(config, out, 'bench', async (engine, backend) => {
    await fs.mkdir(o.outDir, { recursive: true });
    const rows: BenchRow[] = [];
    for (const m of parsed) {
      const dir = path.join(o.outDir, m.name);
      const resultFile = path.join(dir, 'bench-result.json');
      if (await exists(resultFile)) {
        out.info(`${m.name}: already done, read from ${resultFile}`);
        rows.push(JSON.parse(await fs.readFile(resultFile, 'utf8')) as BenchRow);
        continue;
      }
      const options = await trainOptionsFor(config, o, m, dir, backend.backend);
      const resume = options.resume;
      let last = 0;
      out.info(`${m.name}: training${resume ? ' (resuming)' : ''}…`);
      const r = await engine.call('train', options, (p) => {
        const tp = p.data as TrainProgress;
        if (tp.phase !== 'training' || Date.now() - last > 30_000) {
          last = Date.now();
          out.info(`${m.name}: ${tp.phase} epoch ${tp.epoch}/${tp.epochs} step ${tp.step}/${tp.steps} ${tp.message}`);
        }
      });
      const test = r.test ?? r.val;
      const preds = r.predictions.test ?? r.predictions.val;
      if (!test || !preds) throw new Error(`${m.name}: no held-out part to evaluate`);
      const classes = test.metrics.classes;
      const row: BenchRow = {
        model: m.name,
        name: `${m.architecture === 'efficientnet' ? `EfficientNet-${m.variant.replace(/^./, (c) => c.toUpperCase())}` : DISPLAY_NAMES[m.architecture]}${o.init[m.name] ? ', ImageNet' : ''}`,
        parameters: r.parameters,
        trainSeconds: r.seconds,
        epochs: r.history.length,
        n: test.metrics.n,
        accuracy: test.metrics.accuracy,
        precision: test.metrics.macro.precision,
        recall: test.metrics.macro.recall,
        f1: test.metrics.macro.f1,
        auc: test.metrics.binary?.auc ?? test.metrics.macro.auc,
        mAP: test.metrics.mAP,
        msPerImage: test.msPerImage,
        runtime: test.runtime,
        init: o.init[m.name] ? path.relative(process.cwd(), o.init[m.name]) : null,
        msTestPart: test.msTotal,
        classes,
        confusion: test.metrics.confusion,
        roc: rocOf(preds, classes, o.negativeClass),
      };
      await fs.writeFile(resultFile, JSON.stringify(row, null, 1));
      rows.push(row);
    }
    const table = benchTable(rows);
    const split = o.split === 'blocks' ? 'block split' : `split ${path.basename(path.dirname(o.split))}/${path.basename(o.split)}`;
    const header = `Held-out test part (never used for training or early stopping; ${split}), ${o.imgSize} px, up to ${o.epochs} epochs, batch ${o.batch}, Adamax lr ${o.lr}, ${o.limit ? `first ${o.limit} images per class` : 'all images'} of ${path.basename(o.dataDir)}; ImageNet rows start from imported weights, the others from scratch`;
    await fs.writeFile(path.join(o.outDir, 'table.md'), [header, '', ...table, ''].join('\n'));
    const csvHead = 'model,accuracy,precision,recall,f1,roc_auc,map,parameters,train_seconds,ms_per_image,ms_test_part,n';
    await fs.writeFile(
      path.join(o.outDir, 'table.csv'),
      [
        csvHead,
        ...rows.map((r) => [r.name, r.accuracy, r.precision, r.recall, r.f1, r.auc, r.mAP, r.parameters, r.trainSeconds.toFixed(1), r.msPerImage.toFixed(2), r.msTestPart.toFixed(1), r.n].join(',')),
      ].join('\n') + '\n',
    );
    await fs.writeFile(path.join(o.outDir, 'results.json'), JSON.stringify({ header, rows }, null, 1));
    const curves: Curve[] = rows.map((r) => ({ label: `${r.name} (AUC ${pct(r.auc)}%)`, points: r.roc }));
    await writeSvgPng(path.join(o.outDir, 'roc'), rocSvg(o.negativeClass ? `ROC, malignant vs ${o.negativeClass}` : 'ROC', curves));
    for (const r of rows) await writeSvgPng(path.join(o.outDir, `confusion-${r.model}`), confusionSvg(`${r.name}: confusion on the test part`, r.classes, r.confusion));
    out.stdout(header);
    for (const line of table) out.stdout(line);
    out.info(`written ${o.outDir}/table.md, table.csv, results.json, roc.svg/png, confusion-*.svg/png`);
    return 0;
  });
}

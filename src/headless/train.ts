// `slidetriage train`: class folders in, a model bundle out; progress as a bar in a terminal or JSON lines.
import path from 'node:path';
import type { Config } from '../config.js';
import { EngineClient } from '../engine/client.js';
import type { Metrics } from '../engine/metrics.js';
import { CancelledError } from '../engine/protocol.js';
import { describeBackend } from '../engine/tfjs/backend.js';
import { TRAIN_DEFAULTS, trainOptionsSchema, type TrainOptions, type TrainProgress } from '../engine/train/options.js';
import { defaultPreprocessing, isVariant } from '../engine/models/efficientnet.js';
import type { Evaluation } from '../engine/train/trainer.js';
import type { Output } from './output.js';
import { TRAIN_FLAGS } from './train-flags.js';
import { engineNotesTo } from './with-engine.js';

type Flags = Partial<Record<Exclude<keyof typeof TRAIN_FLAGS, 'init'> | 'out' | 'batch' | 'limit', string | boolean>> & { init?: string[] };

const num = (v: string | boolean | undefined, fallback: number) => (v === undefined ? fallback : Number(v));

function onOff(name: string, v: string | boolean | undefined, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (v === 'on' || v === 'off') return v === 'on';
  throw new Error(`${name}: use on or off, not "${String(v)}"`);
}

/** --augment flips,rot90,jitter=0.1 | none */
function parseAugment(raw: string | undefined): TrainOptions['augment'] {
  if (raw === undefined) return TRAIN_DEFAULTS.augment;
  if (raw === 'none') return { flips: false, rot90: false, colorJitter: 0 };
  const out: TrainOptions['augment'] = { flips: false, rot90: false, colorJitter: 0 };
  for (const part of raw.split(',')) {
    const [k, v] = part.split('=');
    if (k === 'flips') out.flips = true;
    else if (k === 'rot90') out.rot90 = true;
    else if (k === 'jitter') out.colorJitter = v === undefined ? 0.1 : Number(v);
    else if (k === 'background') out.backgroundSwap = v === undefined ? 0.5 : Number(v);
    else if (k === 'stain' || k === 'zoom' || k === 'black' || k === 'blur') out[k] = v === undefined ? 0.2 : Number(v);
    else throw new Error(`--augment: unknown part "${part}" (use flips, rot90, jitter=0.1, background=0.5, stain=0.2, zoom=0.3, black=0.1, blur=0.2 or none)`);
  }
  return out;
}

function defaultPreprocessingOf(architecture: string, variant: string): string {
  if (architecture === 'mobilenetv2') return 'tf';
  return architecture === 'efficientnet' && isVariant(variant) ? defaultPreprocessing(variant) : TRAIN_DEFAULTS.preprocessing;
}

export function trainOptionsFrom(flags: Flags, config: Config, argv: string[]): TrainOptions {
  if (!flags.data || !flags.out) throw new Error('train needs --data DIR (class folders) and --out DIR (the bundle to write)');
  const d = TRAIN_DEFAULTS;
  const raw = {
    ...d,
    dataDir: path.resolve(String(flags.data)),
    outDir: path.resolve(String(flags.out)),
    name: (flags.name as string) ?? d.name,
    architecture: (flags.architecture as string) ?? d.architecture,
    variant: (flags.variant as string) ?? d.variant,
    imgSize: num(flags['img-size'], d.imgSize),
    epochs: num(flags.epochs, d.epochs),
    batch: num(flags.batch, d.batch),
    microBatch: num(flags['micro-batch'], Math.min(d.microBatch, num(flags.batch, d.batch))),
    workers: num(flags.workers, d.workers),
    lr: num(flags.lr, d.lr),
    lrSchedule: (flags['lr-schedule'] as string) ?? d.lrSchedule,
    warmupSteps: num(flags['warmup-steps'], d.warmupSteps),
    bnMomentum: num(flags['bn-momentum'], d.bnMomentum),
    batchNorm: (flags['batch-norm'] as string) ?? d.batchNorm,
    recalibrateBatches: num(flags['recalibrate-bn'], d.recalibrateBatches),
    averageFrom: num(flags['average-from'], d.averageFrom),
    priorCorrection: onOff('--prior-correction', flags['prior-correction'], d.priorCorrection),
    ood: onOff('--ood', flags.ood, d.ood),
    patience: num(flags.patience, d.patience),
    valSplit: num(flags['val-split'], d.valSplit),
    testSplit: num(flags['test-split'], d.testSplit),
    split: (flags.split as string) ?? d.split,
    blockSize: num(flags['block-size'], d.blockSize),
    seed: num(flags.seed, d.seed),
    resume: !!flags.resume,
    init: (flags.init ?? []).map((d) => path.resolve(d)),
    augment: parseAugment(flags.augment as string | undefined),
    cellMasks: flags['cell-masks'] ? path.resolve(String(flags['cell-masks'])) : null,
    maskPenalty: num(flags['mask-penalty'], d.maskPenalty),
    head: { ...d.head, pooling: (flags.pooling as string) ?? d.head.pooling, denseUnits: num(flags.dense, d.head.denseUnits), dropout: num(flags.dropout, d.head.dropout) },
    // Each family's ImageNet weights expect their own input scaling (lite and MobileNetV2: [-1, 1]).
    preprocessing: (flags.preprocessing as string) ?? defaultPreprocessingOf((flags.architecture as string) ?? d.architecture, (flags.variant as string) ?? d.variant),
    float16: !!flags.float16,
    engine: (flags.engine as string) ?? d.engine,
    evalRuntime: (flags['eval-runtime'] as string) ?? d.evalRuntime,
    negativeClass: (flags['negative-class'] as string | undefined) ?? null,
    checkpointMinutes: num(flags['checkpoint-minutes'], d.checkpointMinutes),
    maxSteps: flags['max-steps'] === undefined ? null : Number(flags['max-steps']),
    extensions: config.images.extensions,
    maxPixels: config.images.maxPixels,
    resize: config.images.resize,
    command: ['slidetriage', ...argv].join(' '),
    backend: config.backend,
  };
  const parsed = trainOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
}

export function progressLine(p: TrainProgress, width = 24): string {
  if (p.phase !== 'training') return p.message;
  const filled = Math.round((p.step / Math.max(1, p.steps)) * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  return `epoch ${p.epoch}/${p.epochs} ${bar} ${p.step}/${p.steps}  loss ${p.loss?.toFixed(4)}  acc ${p.accuracy?.toFixed(3)}  ${p.imagesPerSecond?.toFixed(1)} img/s  ETA ${duration(p.etaSeconds)}`;
}

const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '  n/a' : (x * 100).toFixed(2).padStart(6));

export function metricsTable(title: string, e: Evaluation): string[] {
  const lines = [`${title} (n = ${e.metrics.n})`, '| class | precision | recall | F1 | ROC AUC | AP | support |', '|---|---|---|---|---|---|---|'];
  for (const c of e.metrics.classes) {
    const m = e.metrics.perClass[c];
    lines.push(`| ${c} | ${pct(m.precision)} | ${pct(m.recall)} | ${pct(m.f1)} | ${pct(m.auc)} | ${pct(m.ap)} | ${m.support} |`);
  }
  const row = (label: string, m: Metrics) =>
    `| ${label} | accuracy ${pct(m.accuracy)} | macro F1 ${pct(m.macro.f1)} | macro AUC ${pct(m.macro.auc)} | mAP ${pct(m.mAP)} | ECE ${m.ece.toFixed(4)} | ${m.binary ? `binary AUC ${pct(m.binary.auc)}, sens ${pct(m.binary.sensitivity)}, spec ${pct(m.binary.specificity)}` : ''} |`;
  lines.push(row('overall', e.metrics), row('overall, 8-view TTA', e.tta));
  const i = e.intervals;
  const span = (r: { low: number; high: number }, f: (v: number) => string) => `[${f(r.low)}, ${f(r.high)}]`;
  if (i)
    lines.push(
      `95% intervals (bootstrap over the split's ${i.units} units, blocks of near-duplicate file numbers or single images): accuracy ${span(i.accuracy, pct)}${i.binaryAuc ? `, binary AUC ${span(i.binaryAuc, pct)}` : ''}`,
    );
  return lines;
}

export async function runTrain(config: Config, options: TrainOptions, json: boolean, out: Output): Promise<number> {
  const engine = new EngineClient({ onLog: engineNotesTo(out) });
  const tty = !json && process.stderr.isTTY;
  let lastLineAt = 0;
  try {
    const backend = await engine.call('init', { backend: config.backend, threads: config.threads, runtime: config.runtime, onnxProvider: config.onnxProvider });
    out.info(describeBackend(backend));
    options = { ...options, backend: backend.backend };
    const handle = engine.start('train', options, (p) => {
      const tp = p.data as TrainProgress;
      if (json) return out.stdout(JSON.stringify(tp));
      const line = progressLine(tp);
      if (tty) process.stderr.write(`\r\x1b[2K${line}${tp.phase === 'training' ? '' : '\n'}`);
      else if (tp.phase !== 'training' || Date.now() - lastLineAt > 30_000) {
        lastLineAt = Date.now();
        out.info(line);
      }
    });
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      out.info('\nstopping after this step and saving a checkpoint (Ctrl-C again to quit at once)…');
      handle.cancel();
    };
    process.on('SIGINT', onSigint);
    try {
      const result = await handle.result;
      if (tty) process.stderr.write('\n');
      const report = [`model ${result.manifest.id} written to ${result.outDir} (${result.stoppedBy}, ${result.history.length} epochs, ${duration(result.seconds)})`];
      if (result.val) report.push(...metricsTable('validation part (used for early stopping)', result.val));
      if (result.test) report.push(...metricsTable('test part (never used in training or selection)', result.test));
      if (json) out.stdout(JSON.stringify({ done: true, id: result.manifest.id, outDir: result.outDir, stoppedBy: result.stoppedBy, val: result.val, test: result.test, seconds: result.seconds }));
      else for (const l of report) out.stdout(l);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  } catch (err) {
    if (err instanceof CancelledError) {
      out.info(`stopped; the checkpoint is in ${path.join(options.outDir, 'checkpoint')}: continue with the same command and --resume`);
      return 130;
    }
    out.error(`train failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await engine.close();
  }
}

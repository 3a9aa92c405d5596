// Training checkpoints that survive kill -9: each is written whole into a new numbered folder, and only
// then does the LATEST pointer move to it (an atomic rename), so the pointer always names a complete one.
import fs from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { AdamaxState } from './adamax.js';

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  /** Epochs in the weight average that was validated (absent: the epoch's own weights were). */
  averagedEpochs?: number;
  learningRate: number;
  seconds: number;
}

export interface TrainState {
  version: 1;
  /** Options that must match for --resume to continue this run. */
  fingerprint: Record<string, unknown>;
  /** Next position: epoch (0-based) and step within it. */
  epoch: number;
  step: number;
  history: EpochRecord[];
  bestValLoss: number | null;
  bestEpoch: number | null;
  staleEpochs: number;
  learningRate: number;
  elapsedMs: number;
  /** Running sums of the epoch in progress, so a mid-epoch resume reports the same epoch figures. */
  epochSums: { loss: number; correct: number; seen: number };
  done: boolean;
  /** Stochastic weight averaging: the first averaged epoch and how many are in the mean (absent in older checkpoints). */
  average?: { from: number; count: number };
}

export interface Snapshot {
  state: TrainState;
  weights: Float32Array[];
  best: Float32Array[] | null;
  /** The running mean of end-of-epoch weights (null until the first averaged epoch). */
  average: Float32Array[] | null;
  optimizer: AdamaxState;
}

const LATEST = 'LATEST';

function pack(arrays: Float32Array[]): Buffer {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

function unpack(bytes: Buffer, sizes: number[]): Float32Array[] {
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (all.length !== total) throw new Error(`checkpoint data has ${all.length} values, expected ${total}`);
  const out: Float32Array[] = [];
  let o = 0;
  for (const n of sizes) {
    out.push(all.subarray(o, o + n));
    o += n;
  }
  return out;
}

async function writeFileSynced(file: string, data: Uint8Array | string): Promise<void> {
  const h = await fs.open(file, 'w');
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
}

export async function saveCheckpoint(dir: string, snap: Snapshot): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const previous = await fs.readFile(path.join(dir, LATEST), 'utf8').catch(() => null);
  const seq = String((previous ? Number(previous.trim()) : 0) + 1).padStart(6, '0');
  const target = path.join(dir, seq);
  await fs.rm(target, { recursive: true, force: true });
  await fs.mkdir(target);
  await writeFileSynced(path.join(target, 'weights.bin'), pack(snap.weights));
  if (snap.best) await writeFileSynced(path.join(target, 'best.bin'), pack(snap.best));
  if (snap.average) await writeFileSynced(path.join(target, 'average.bin'), pack(snap.average));
  await writeFileSynced(path.join(target, 'optimizer.bin'), pack([...snap.optimizer.m, ...snap.optimizer.u]));
  await writeFileSynced(path.join(target, 'state.json'), JSON.stringify({ ...snap.state, optimizerIterations: snap.optimizer.iterations, hasBest: !!snap.best, hasAverage: !!snap.average }, null, 1));
  const tmp = path.join(dir, `${LATEST}.${process.pid}.tmp`);
  await writeFileSynced(tmp, seq);
  await fs.rename(tmp, path.join(dir, LATEST));
  if (previous) await fs.rm(path.join(dir, previous.trim()), { recursive: true, force: true });
}

/** The latest complete checkpoint, or null when there is none. `sizes` are the model's weight sizes. */
export async function loadCheckpoint(dir: string, sizes: number[], trainableSizes: number[]): Promise<Snapshot | null> {
  const latest = await fs.readFile(path.join(dir, LATEST), 'utf8').catch(() => null);
  if (!latest) return null;
  const target = path.join(dir, latest.trim());
  const raw = JSON.parse(await fs.readFile(path.join(target, 'state.json'), 'utf8')) as TrainState & { optimizerIterations: number; hasBest: boolean; hasAverage?: boolean };
  const weights = unpack(await fs.readFile(path.join(target, 'weights.bin')), sizes);
  const best = raw.hasBest ? unpack(await fs.readFile(path.join(target, 'best.bin')), sizes) : null;
  const average = raw.hasAverage ? unpack(await fs.readFile(path.join(target, 'average.bin')), sizes) : null;
  const opt = raw.optimizerIterations > 0 ? unpack(await fs.readFile(path.join(target, 'optimizer.bin')), [...trainableSizes, ...trainableSizes]) : [];
  const { optimizerIterations, hasBest: _hasBest, hasAverage: _hasAverage, ...state } = raw;
  return {
    state,
    weights,
    best,
    average,
    optimizer: { iterations: optimizerIterations, m: opt.slice(0, trainableSizes.length), u: opt.slice(trainableSizes.length) },
  };
}

export function readWeights(model: tf.LayersModel): Float32Array[] {
  return model.weights.map((w) => (w.read().dataSync() as Float32Array).slice());
}

export function writeWeights(model: tf.LayersModel, values: Float32Array[], tfjs: typeof tf): void {
  if (values.length !== model.weights.length) throw new Error(`expected ${model.weights.length} weight arrays, got ${values.length}`);
  tfjs.tidy(() => {
    model.weights.forEach((w, i) => w.write(tfjs.tensor(values[i], w.shape as number[])));
  });
}

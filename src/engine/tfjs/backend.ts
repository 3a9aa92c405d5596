// Backend resolution for TensorFlow.js: tfjs-node-gpu → tfjs-node → wasm → cpu, or exactly what was asked.
// tfjs falls back to 'cpu' silently when a backend fails; we check tf.getBackend() and say so instead.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendChoice } from '../../config.js';
import { registerWasmGradKernels } from './wasm-grad-kernels.js';
import { registerBatchNormGrad } from './batchnorm-grad.js';

export type ConcreteBackend = Exclude<BackendChoice, 'auto'>;

/** tfjs's own name for each of our backend choices. */
const TFJS_NAME: Record<ConcreteBackend, string> = { 'tensorflow-gpu': 'tensorflow', tensorflow: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };
const AUTO_ORDER: ConcreteBackend[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
const NODE_PACKAGE: Partial<Record<ConcreteBackend, string>> = { 'tensorflow-gpu': '@tensorflow/tfjs-node-gpu', tensorflow: '@tensorflow/tfjs-node' };

export class BackendError extends Error {
  override name = 'BackendError';
}

export interface BackendReport {
  /** What this process runs on, in our names. */
  backend: ConcreteBackend;
  /** Every backend tried before it, with why it could not start. */
  skipped: Array<{ backend: ConcreteBackend; reason: string }>;
  /** Gradient kernels this process added to the backend. */
  addedKernels: string[];
}

const require = createRequire(import.meta.url);

async function tryStart(choice: ConcreteBackend, threads: number): Promise<string | null> {
  const pkg = NODE_PACKAGE[choice];
  if (pkg) {
    try {
      // The native packages register a 'tensorflow' backend when they load; they are optional dependencies.
      await import(pkg);
    } catch (err) {
      return `${pkg} is not installed or cannot load (${firstLine(err)})`;
    }
  }
  if (choice === 'wasm') {
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    setWasmPaths(dist);
    if (threads > 0) setThreadsCount(threads);
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(TFJS_NAME[choice]);
    await tf.ready();
  } catch (err) {
    return firstLine(err);
  }
  if (!ok) return `tf.setBackend('${TFJS_NAME[choice]}') returned false`;
  const active = tf.getBackend();
  if (active !== TFJS_NAME[choice]) return `TensorFlow.js fell back to '${active}'`;
  return null;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}

let current: BackendReport | null = null;

/** Starts the requested backend; 'auto' takes the first that works. A named backend that fails is an error. */
export async function resolveBackend(choice: BackendChoice, threads = 0): Promise<BackendReport> {
  if (current && (choice === 'auto' || choice === current.backend)) return current;
  tf.env().set('PROD', true); // silences tfjs's console banners; errors still throw
  const order = choice === 'auto' ? AUTO_ORDER : [choice];
  const skipped: BackendReport['skipped'] = [];
  for (const candidate of order) {
    const reason = await tryStart(candidate, threads);
    if (reason === null) {
      const addedKernels = candidate === 'wasm' ? registerWasmGradKernels() : [];
      registerBatchNormGrad();
      current = { backend: candidate, skipped, addedKernels };
      return current;
    }
    skipped.push({ backend: candidate, reason });
  }
  const detail = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  throw new BackendError(choice === 'auto' ? `no TensorFlow.js backend could start (${detail})` : `backend '${choice}' cannot start: ${detail}`);
}

export function describeBackend(report: BackendReport): string {
  const skipped = report.skipped.map((s) => `${s.backend} skipped: ${s.reason}`);
  return [`backend ${report.backend}`, ...skipped].join('; ');
}

// The training loop's side of data-parallel training: gradient workers, each a thread with its own
// TensorFlow.js, computing some of every batch's micro-batches while the loop computes the others.
import { Worker } from 'node:worker_threads';
import type { ModelSpec } from '../models/spec.js';
import type { FromGradientWorker, ToGradientWorker } from './gradient-protocol.js';
import type { MicroBatch } from './micro-batch.js';

export interface RemoteResult {
  loss: number;
  hits: number;
  grads: Array<Float32Array | null>;
}

export class GradientWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: RemoteResult) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failure: Error | null = null;

  private constructor() {
    this.worker = new Worker(new URL('./gradient-worker-boot.mjs', import.meta.url));
    this.worker.on('message', (msg: FromGradientWorker) => {
      if (msg.kind === 'ready') return;
      const p = msg.id === null ? null : this.pending.get(msg.id);
      if (msg.kind === 'error') {
        const err = new Error(`gradient worker: ${msg.message}`);
        if (p) p.reject(err);
        else this.fail(err);
      } else if (p) {
        p.resolve({ loss: msg.loss, hits: msg.hits, grads: msg.grads });
      }
      if (msg.id !== null) this.pending.delete(msg.id);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`gradient worker stopped (exit code ${code})`)));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Starts a worker with a model of `spec` on `backend`; resolves when it is ready. `frozenBatchNorm`: every weight of a model whose batch norm is frozen. */
  static start(backend: string, spec: ModelSpec, seed: number, frozenBatchNorm: Float32Array[] | null = null): Promise<GradientWorker> {
    const w = new GradientWorker();
    return new Promise((resolve, reject) => {
      const onMessage = (msg: FromGradientWorker) => {
        if (msg.kind === 'ready') resolve(w);
        else if (msg.kind === 'error' && msg.id === null) reject(new Error(`gradient worker: ${msg.message}`));
        else return;
        w.worker.off('message', onMessage);
      };
      w.worker.on('message', onMessage);
      w.worker.once('error', reject);
      w.post({ kind: 'init', backend, spec, seed, weights: frozenBatchNorm });
    });
  }

  private post(msg: ToGradientWorker): void {
    this.worker.postMessage(msg);
  }

  /** Gradients of one micro-batch; `weights` (trainable variables in order) first when they changed. */
  compute(batch: MicroBatch, randomSeed: number, weights: Float32Array[] | null): Promise<RemoteResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ kind: 'compute', id, batch, randomSeed, weights });
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

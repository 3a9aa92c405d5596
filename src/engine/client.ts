// The caller's side of the engine: starts the worker thread and turns the message API into promises.
import { Worker } from 'node:worker_threads';
import { CancelledError, EngineError, type CallName, type CallPayload, type CallResult, type FromWorker, type Progress, type ToWorker } from './protocol.js';

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: (p: Progress) => void;
}

export interface CallHandle<T> {
  id: number;
  result: Promise<T>;
  cancel(): void;
}

export interface EngineClientOptions {
  onLog?: (level: 'info' | 'warn', message: string) => void;
  /** V8 heap limit of the worker in MB; tfjs keeps model weights on the JS heap on the cpu backend. */
  maxHeapMb?: number;
}

export class EngineClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: Error | null = null;

  constructor(opts: EngineClientOptions = {}) {
    this.worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      resourceLimits: opts.maxHeapMb ? { maxOldGenerationSizeMb: opts.maxHeapMb } : undefined,
    });
    this.worker.on('message', (msg: FromWorker) => {
      if (msg.kind === 'log') {
        opts.onLog?.(msg.level, msg.message);
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.kind === 'progress') {
        p.onProgress?.(msg.progress);
        return;
      }
      this.pending.delete(msg.id);
      if (msg.kind === 'result') p.resolve(msg.result);
      else p.reject(msg.error.name === 'CancelledError' ? new CancelledError() : new EngineError(msg.error.name, msg.error.message));
    });
    const fail = (err: Error) => {
      this.exited = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err) => fail(new EngineError('EngineCrashed', `the engine worker crashed: ${err.message}`)));
    this.worker.on('exit', (code) => fail(new EngineError('EngineExited', `the engine worker exited (code ${code})`)));
  }

  /** Starts a call; the handle can cancel it. */
  start<K extends CallName>(name: K, payload: CallPayload<K>, onProgress?: (p: Progress) => void): CallHandle<CallResult<K>> {
    const id = this.nextId++;
    const result = new Promise<CallResult<K>>((resolve, reject) => {
      if (this.exited) {
        reject(this.exited);
        return;
      }
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      const msg: ToWorker = { kind: 'call', id, name, payload };
      this.worker.postMessage(msg);
    });
    return {
      id,
      result,
      cancel: () => {
        if (this.pending.has(id)) this.worker.postMessage({ kind: 'cancel', id } satisfies ToWorker);
      },
    };
  }

  call<K extends CallName>(name: K, payload: CallPayload<K>, onProgress?: (p: Progress) => void): Promise<CallResult<K>> {
    return this.start(name, payload, onProgress).result;
  }

  /**
   * Cancels what is running, lets the worker release its native sessions and end, and terminates it
   * after `graceMs` if it has not (a call that does not reach a cancellation point in time).
   */
  async close(graceMs = 5000): Promise<'released' | 'terminated' | 'already ended'> {
    this.worker.removeAllListeners('exit');
    if (this.exited) return 'already ended';
    const ended = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    for (const id of this.pending.keys()) this.worker.postMessage({ kind: 'cancel', id } satisfies ToWorker);
    this.worker.postMessage({ kind: 'shutdown' } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    const how = await Promise.race([ended, late]);
    clearTimeout(timer);
    if (how === 'late') await this.worker.terminate();
    this.exited = new EngineError('EngineExited', 'the engine was closed');
    return how === 'late' ? 'terminated' : 'released';
  }
}

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

/** 'recovered': a worker that died was replaced and has its backend and model back. */
export type EngineNoteLevel = 'info' | 'warn' | 'recovered';
export type EngineNoteListener = (level: EngineNoteLevel, message: string) => void;

export interface EngineClientOptions {
  onLog?: EngineNoteListener;
  /** V8 heap limit of the worker in MB; tfjs keeps model weights on the JS heap on the cpu backend. */
  maxHeapMb?: number;
}

/** Restarts allowed within RESTART_WINDOW_MS before the engine is given up (a slide that kills it each time). */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 10 * 60_000;

export class EngineClient {
  private worker!: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: Error | null = null;
  /** Calls wait for this before they are posted: a restarted worker first gets its backend and model back. */
  private ready: Promise<void> = Promise.resolve();
  private readonly restarts: number[] = [];
  /** The last init and model load that succeeded: replayed into a restarted worker. */
  private lastInit: CallPayload<'init'> | null = null;
  private lastLoad: CallPayload<'load'> | null = null;
  private closing = false;
  private readonly logListeners = new Set<EngineNoteListener>();

  constructor(private readonly opts: EngineClientOptions = {}) {
    if (opts.onLog) this.logListeners.add(opts.onLog);
    this.spawn();
  }

  /** Hears the engine's notes (a runtime not used, a restart); returns the unsubscribe. */
  onLog(listener: EngineNoteListener): () => void {
    this.logListeners.add(listener);
    return () => this.logListeners.delete(listener);
  }

  private log(level: EngineNoteLevel, message: string): void {
    for (const l of this.logListeners) l(level, message);
  }

  private spawn(): void {
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      resourceLimits: this.opts.maxHeapMb ? { maxOldGenerationSizeMb: this.opts.maxHeapMb } : undefined,
    });
    this.worker = worker;
    worker.on('message', (msg: FromWorker) => {
      if (msg.kind === 'log') {
        this.log(msg.level, msg.message);
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
    let gone = false;
    const lost = (err: EngineError) => {
      if (gone) return;
      gone = true;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.restart(err);
    };
    worker.on('error', (err) => lost(new EngineError('EngineCrashed', `the engine worker crashed: ${err.message}`)));
    worker.on('exit', (code) => lost(new EngineError('EngineExited', `the engine worker exited (code ${code})`)));
  }

  /**
   * A worker that died (its wasm memory aborted, a native crash) is replaced, with the backend and model it
   * had, so the app keeps working; the calls it was running fail with the reason. After MAX_RESTARTS
   * within RESTART_WINDOW_MS the engine stays down and every call says why.
   */
  private restart(err: EngineError): void {
    if (this.closing) return;
    const now = Date.now();
    while (this.restarts.length && now - this.restarts[0] > RESTART_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length >= MAX_RESTARTS) {
      this.exited = new EngineError(err.name, `${err.message}; it stopped ${MAX_RESTARTS + 1} times in ${RESTART_WINDOW_MS / 60_000} minutes and is not restarted again — restart slidetriage`);
      return;
    }
    this.restarts.push(now);
    this.log('warn', `${err.message}; restarting it`);
    this.spawn();
    const init = this.lastInit;
    const load = this.lastLoad;
    this.ready = (async () => {
      try {
        if (init) await this.post('init', init);
        if (init && load) await this.post('load', load);
        this.log('recovered', `the engine is running again${load ? ' with its model' : ''}`);
      } catch (e) {
        this.log('warn', `the restarted engine could not get its model back: ${(e as Error).message}`);
      }
    })();
  }

  /** Posts a call to the current worker now (restart's replay; everything else goes through start). */
  private post<K extends CallName>(name: K, payload: CallPayload<K>, id = this.nextId++, onProgress?: (p: Progress) => void): Promise<CallResult<K>> {
    return new Promise<CallResult<K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      this.worker.postMessage({ kind: 'call', id, name, payload } satisfies ToWorker);
    });
  }

  /** Starts a call; the handle can cancel it. */
  start<K extends CallName>(name: K, payload: CallPayload<K>, onProgress?: (p: Progress) => void): CallHandle<CallResult<K>> {
    const id = this.nextId++;
    const result = (async () => {
      await this.ready;
      if (this.exited) throw this.exited;
      return this.post(name, payload, id, onProgress);
    })();
    let settled = false;
    // What a restarted worker needs back: the backend and model the last successful calls set up.
    void result.then(
      () => {
        settled = true;
        if (name === 'init') [this.lastInit, this.lastLoad] = [payload as CallPayload<'init'>, null];
        if (name === 'load') this.lastLoad = payload as CallPayload<'load'>;
      },
      () => (settled = true),
    );
    return {
      id,
      result,
      // To the current worker: one that has not got the call yet (a restart is replaying) drops it when it comes.
      cancel: () => {
        if (!settled) this.worker.postMessage({ kind: 'cancel', id } satisfies ToWorker);
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
    this.closing = true;
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
    // A call the worker never answered (terminated in it, or it ended first) fails instead of hanging.
    for (const p of this.pending.values()) p.reject(this.exited);
    this.pending.clear();
    return how === 'late' ? 'terminated' : 'released';
  }
}

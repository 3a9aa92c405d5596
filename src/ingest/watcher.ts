// Watches the incoming folder and its subfolders. An initial scan finds files added while the app was
// off; awaitWriteFinish and `change` events make a slowly copied file count once it is complete.
// Files are examined two at a time and recorded in batches, so 1,000 files dropped at once cost a
// handful of store writes, not a thousand.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { FileEntry } from '../store/schema.js';
import type { SlideStore } from '../store/store.js';
import type { ImageLimits } from './image.js';
import { examineFile, isIgnoredName, recordExamined, type Examined } from './ingest.js';

export interface WatcherEvents {
  recorded: [entries: FileEntry[]];
  warning: [message: string];
  ready: [];
  idle: [];
}

export interface WatcherOptions {
  concurrency?: number;
  stabilityMs?: number;
  usePolling?: boolean;
  /** Record after this many examined files, or after flushMs, whichever comes first. */
  flushEvery?: number;
  flushMs?: number;
}

export class IncomingWatcher extends EventEmitter<WatcherEvents> {
  private watcher: FSWatcher | null = null;
  private readonly waiting = new Set<string>();
  private readonly queue: string[] = [];
  private active = 0;
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private examined: Examined[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private unflushed = 0;
  state: 'starting' | 'scanning' | 'watching' | 'stopped' = 'starting';

  constructor(
    private readonly root: string,
    private readonly store: SlideStore,
    private readonly limits: ImageLimits,
    private readonly opts: WatcherOptions = {},
  ) {
    super();
  }

  start(): void {
    this.state = 'scanning';
    this.watcher = watch(this.root, {
      ignoreInitial: false,
      followSymlinks: false,
      usePolling: this.opts.usePolling ?? false,
      ignored: (p: string) => p !== this.root && isIgnoredName(path.basename(p)),
      awaitWriteFinish: { stabilityThreshold: this.opts.stabilityMs ?? 800, pollInterval: 100 },
    });
    this.watcher.on('add', (p) => this.enqueue(p));
    this.watcher.on('change', (p) => this.enqueue(p));
    this.watcher.on('ready', () => {
      this.state = 'watching';
      this.emit('ready');
      this.maybeIdle();
    });
    this.watcher.on('error', (err) => this.emit('warning', `watcher: ${(err as Error).message}`));
  }

  /** Files waiting, being read, or read and not yet recorded. */
  get backlog(): number {
    return this.queue.length + this.active + this.unflushed;
  }

  private enqueue(file: string): void {
    if (this.waiting.has(file)) return;
    this.waiting.add(file);
    this.queue.push(file);
    this.pump();
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 2;
    while (this.active < limit && this.queue.length) {
      const file = this.queue.shift()!;
      this.waiting.delete(file);
      this.active++;
      this.examine(file).finally(() => {
        this.active--;
        this.pump();
        this.maybeIdle();
      });
    }
  }

  /**
   * The store's file entries, re-read at most every half second: with 1,000 files arriving at once,
   * reading the whole store once per file would cost more than the files themselves.
   */
  private known: { at: number; files: Promise<Record<string, FileEntry>> } | null = null;
  private knownFiles(): Promise<Record<string, FileEntry>> {
    if (!this.known || Date.now() - this.known.at > 500) this.known = { at: Date.now(), files: this.store.read().then((d) => d.files) };
    return this.known.files;
  }

  private async examine(file: string): Promise<void> {
    try {
      const known = (await this.knownFiles())[path.relative(this.root, file)];
      const outcome = await examineFile(this.root, file, this.limits, known);
      if (outcome.kind === 'retry') this.retryLater(file);
      if (outcome.kind !== 'examined') return;
      if (outcome.examined.result.kind === 'reject' && outcome.examined.result.code === 'outside-link') {
        this.emit('warning', `${outcome.examined.rel}: ${outcome.examined.result.reason}`);
      }
      this.examined.push(outcome.examined);
      this.unflushed++;
      if (this.examined.length >= (this.opts.flushEvery ?? 64)) this.flush();
      else this.flushTimer ??= setTimeout(() => this.flush(), this.opts.flushMs ?? 150);
    } catch (err) {
      this.emit('warning', `${file}: ${(err as Error).message}`);
    }
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = this.examined;
    this.examined = [];
    if (!batch.length) return;
    this.flushing = this.flushing
      .then(async () => {
        const entries = await this.store.update((data) => recordExamined(data, batch));
        this.emit('recorded', entries);
      })
      .catch((err: Error) => {
        this.emit('warning', `cannot record ${batch.length} file(s) in the store: ${err.message}`);
      })
      .finally(() => {
        this.unflushed -= batch.length;
        this.maybeIdle();
      });
  }

  private retryLater(file: string): void {
    clearTimeout(this.retries.get(file));
    this.retries.set(
      file,
      setTimeout(() => {
        this.retries.delete(file);
        this.enqueue(file);
      }, 1000),
    );
  }

  private maybeIdle(): void {
    if (this.state === 'watching' && this.backlog === 0 && this.retries.size === 0) this.emit('idle');
  }

  /** Resolves when the initial scan is done and everything seen is recorded. */
  whenIdle(): Promise<void> {
    if (this.state === 'watching' && this.backlog === 0 && this.retries.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.once('idle', () => resolve()));
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
    this.flush();
    await this.flushing;
    await this.watcher?.close();
  }
}

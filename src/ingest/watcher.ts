// Watches the incoming folder and its subfolders. At start, and every rescanMs after, a walk of the folder
// finds files added while the app was off or that no event announced, and files removed; chokidar's
// events bring the rest as it happens. awaitWriteFinish and `change` events make a slowly copied file
// count once it is complete. Files are examined two at a time and recorded in batches (recorder.ts).
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { FileEntry } from '../store/schema.js';
import type { SlideStore } from '../store/types.js';
import type { ImageLimits } from './image.js';
import { examineFile, isIgnoredName } from './ingest.js';
import { BatchRecorder } from './recorder.js';
import { walkFiles, type Walked } from './walk.js';
import { FolderWatch } from './folder-watch.js';

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
  /** Walk the folder again this often (0: only at start): finds what no event announced. */
  rescanMs?: number;
  /** Reads of a file still being written before it is left `changed` (until it changes again). */
  retryLimit?: number;
  /**
   * `scan`: how long a file that keeps changing is waited for in all, its changes included; then it is left
   * `changed` and the scan returns (a file appended every second once kept `scan` waiting for ever).
   */
  giveUpAfterMs?: number;
  /**
   * false: one walk and its retries, no watching (`scan`). chokidar's wait for a file to finish keeps polling
   * a file that never stops changing, even after close, so the process could never exit.
   */
  live?: boolean;
  /** Called with each readable image before it is recorded (the store keeps its own copy). */
  keep?: (sha256: string, bytes: Buffer) => Promise<void>;
  /**
   * From this many files in the folder at start, its folders are watched instead of each file (folder-watch.ts),
   * and the walk comes round a tenth as often: chokidar on a million files took minutes and ran out of watches.
   */
  largeFolderFiles?: number;
}

/** See WatcherOptions.largeFolderFiles: a year of a lab's slides is far above it, a day's far below. */
export const LARGE_FOLDER_FILES = 50_000;

export class IncomingWatcher extends EventEmitter<WatcherEvents> {
  private watcher: FSWatcher | null = null;
  private folders: FolderWatch | null = null;
  private readonly waiting = new Set<string>();
  // Files to examine, first in first out; `head` is the next one's index (Array.shift moves the whole array:
  // quadratic over a first walk of a million files).
  private queue: string[] = [];
  private head = 0;
  private active = 0;
  private readonly retries = new Map<string, { timer: NodeJS.Timeout | null; count: number; since: number }>();
  private readonly recorder: BatchRecorder;
  private rescanTimer: NodeJS.Timeout | null = null;
  state: 'starting' | 'scanning' | 'watching' | 'stopped' = 'starting';

  constructor(
    private readonly root: string,
    private readonly store: SlideStore,
    private readonly limits: ImageLimits,
    private readonly opts: WatcherOptions = {},
  ) {
    super();
    const done = () => this.maybeIdle();
    this.recorder = new BatchRecorder(store, { recorded: (e) => this.emit('recorded', e), failed: (m) => this.emit('warning', m), settled: done }, opts.flushEvery, opts.flushMs);
  }

  start(): void {
    this.state = 'scanning';
    if (this.opts.live === false) return void this.firstScan();
    void this.startWatching();
  }

  /** The folder walked once; then chokidar on each file, or, on a large folder, a watch on each folder. */
  private async startWatching(): Promise<void> {
    const walked = await walkFiles(this.root, isIgnoredName);
    if (this.state === 'stopped') return;
    if (walked.files.length >= (this.opts.largeFolderFiles ?? LARGE_FOLDER_FILES)) {
      this.folders = new FolderWatch(this.root, isIgnoredName, {
        file: (p) => this.enqueue(p),
        gone: (p) => this.recorder.addGone(path.relative(this.root, p)),
        warning: (m) => this.emit('warning', `watcher: ${m}`),
      });
      await this.folders.start();
      return void this.firstScan(walked, 10);
    }
    this.watcher = watch(this.root, {
      ignoreInitial: true,
      followSymlinks: false,
      // chokidar otherwise drops files without the owner-read bit unseen; whether a file can be read is
      // decided by reading it.
      ignorePermissionErrors: true,
      usePolling: this.opts.usePolling ?? false,
      ignored: (p: string) => p !== this.root && isIgnoredName(path.basename(p)),
      awaitWriteFinish: { stabilityThreshold: this.opts.stabilityMs ?? 800, pollInterval: 100 },
    });
    // chokidar gives a name that is not UTF-8 with U+FFFD in it, which no file has: a walk reads it by its bytes.
    this.watcher.on('add', (p) => (p.includes('\uFFFD') ? void this.rescan() : this.enqueue(p)));
    this.watcher.on('change', (p) => {
      // It changed again: read it anew, however often it was retried (within giveUpAfterMs, where set).
      if (!this.opts.giveUpAfterMs) this.retries.delete(p);
      this.enqueue(p);
    });
    this.watcher.on('unlink', (p) => this.recorder.addGone(path.relative(this.root, p)));
    this.watcher.on('ready', () => void this.firstScan());
    this.watcher.on('error', (err) => this.emit('warning', `watcher: ${(err as Error).message}`));
  }

  /** The first walk (or the one start made), then a walk every rescanMs × `slower`. */
  private async firstScan(walked?: Walked, slower = 1): Promise<void> {
    await this.rescan(walked);
    if (this.state === 'stopped') return;
    this.state = 'watching';
    this.emit('ready');
    this.maybeIdle();
    if (this.opts.rescanMs) this.rescanTimer = setInterval(() => void this.rescan(), this.opts.rescanMs * slower);
  }

  /** Walks the folder: every file found is examined (unchanged ones cost an lstat); files no longer there are gone. */
  async rescan(given?: Walked): Promise<void> {
    const walked = given ?? (await walkFiles(this.root, isIgnoredName));
    for (const u of walked.unlisted) this.emit('warning', `cannot list ${u.path}: ${u.reason}`);
    const found = new Set(walked.files.map((f) => path.relative(this.root, f)));
    for (const f of walked.files) this.enqueue(f);
    // The folder itself could not be listed (a share not mounted, a folder not made yet): nothing is known to be gone.
    if (walked.unlisted.some((u) => u.path === this.root)) return;
    const unlisted = walked.unlisted.map((u) => path.relative(this.root, u.path) + path.sep);
    for (const rel of await this.store.presentFiles()) {
      // A file in a folder that could not be listed is not known to be gone.
      if (!found.has(rel) && !unlisted.some((u) => rel.startsWith(u))) this.recorder.addGone(rel);
    }
  }

  /** Files waiting, being read, or read and not yet recorded. */
  get backlog(): number {
    return this.queue.length - this.head + this.active + this.recorder.pending;
  }

  private enqueue(file: string): void {
    if (this.waiting.has(file) || this.state === 'stopped') return;
    this.waiting.add(file);
    this.queue.push(file);
    this.pump();
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 2;
    while (this.active < limit && this.head < this.queue.length) {
      const file = this.queue[this.head++];
      if (this.head === this.queue.length) [this.queue, this.head] = [[], 0];
      else if (this.head >= 65_536) [this.queue, this.head] = [this.queue.slice(this.head), 0];
      this.waiting.delete(file);
      this.active++;
      this.examine(file).finally(() => {
        this.active--;
        this.pump();
        this.maybeIdle();
      });
    }
  }

  private async examine(file: string): Promise<void> {
    try {
      const known = await this.store.fileEntry(path.relative(this.root, file)); // one indexed lookup
      const outcome = await examineFile(this.root, file, this.limits, known);
      if (outcome.kind === 'retry') {
        this.retryLater(file, outcome.retryInMs);
        this.recorder.add(outcome.examined);
      }
      if (outcome.kind !== 'examined') return;
      this.retries.delete(file);
      if (outcome.examined.result.kind === 'reject' && outcome.examined.result.code === 'outside-link') {
        this.emit('warning', `${outcome.examined.rel}: ${outcome.examined.result.reason}`);
      }
      if (outcome.image && this.opts.keep) await this.opts.keep(outcome.image.sha256, outcome.image.bytes);
      this.recorder.add(outcome.examined);
    } catch (err) {
      this.emit('warning', `${file}: ${(err as Error).message}`);
    }
  }

  /** Reads the file again later, at most retryLimit times in a row; a later change event reads it anew. */
  private retryLater(file: string, inMs: number): void {
    const retry = this.retries.get(file) ?? { timer: null, count: 0, since: Date.now() };
    if (retry.timer) clearTimeout(retry.timer);
    retry.count++;
    const waitedTooLong = this.opts.giveUpAfterMs !== undefined && Date.now() - retry.since > this.opts.giveUpAfterMs;
    retry.timer =
      retry.count > (this.opts.retryLimit ?? Infinity) || waitedTooLong
        ? null
        : setTimeout(() => {
            retry.timer = null;
            this.enqueue(file);
          }, inMs);
    this.retries.set(file, retry);
  }

  private get retrying(): number {
    let n = 0;
    for (const r of this.retries.values()) if (r.timer) n++;
    return n;
  }

  private isIdle(): boolean {
    return this.state === 'watching' && this.backlog === 0 && this.retrying === 0;
  }

  private maybeIdle(): void {
    if (this.isIdle()) this.emit('idle');
  }

  /** Resolves when the first scan is done and everything seen is recorded. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.once('idle', () => resolve()));
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    for (const r of this.retries.values()) if (r.timer) clearTimeout(r.timer);
    this.retries.clear();
    await this.recorder.flush();
    await this.watcher?.close();
    this.folders?.close();
  }
}

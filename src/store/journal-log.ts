// The audit journal as this process follows it: its head (last seq and hash), each slide's decisions, and
// the entries the store has not applied yet. It is read once at open, then only the bytes added since, so
// that a decision costs an append and an fsync under the journal's own lock — not a read and rewrite of
// the whole store, which takes seconds at tens of thousands of slides.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import fs from 'node:fs/promises';
import { appendJournal, appendJournalSync, type JournalEntry, type JournalInput } from './journal.js';
import { acquireLock, tryLockSync } from './lock.js';
import { decisionOf, type Decision } from './schema.js';

export class JournalLog {
  private offset = 0;
  private head = { seq: 0, hash: '' };
  private readonly bySlide = new Map<string, Decision[]>();
  /** Entries read and not yet known to be in the store. */
  private unapplied: JournalEntry[] = [];

  private constructor(readonly file: string) {}

  static async open(file: string): Promise<JournalLog> {
    const log = new JournalLog(file);
    await log.catchUp();
    return log;
  }

  private reading: Promise<void> = Promise.resolve();

  /**
   * Reads the whole lines added since the last read (by any process); a line being written waits. One
   * read at a time in this process: two at once would both take the same lines and both move the offset.
   */
  catchUp(): Promise<void> {
    return this.inTurn(() => this.readNew());
  }

  private inTurn(fn: () => void | Promise<void>): Promise<void> {
    const next = this.reading.then(fn);
    this.reading = next.catch(() => undefined);
    return next;
  }

  private async readNew(): Promise<void> {
    let h;
    try {
      h = await fs.open(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      const { size } = await h.stat();
      const from = this.from(size);
      if (size === from) return;
      const buf = Buffer.alloc(size - from);
      await h.read(buf, 0, buf.length, from);
      this.consume(buf, from);
    } finally {
      await h.close();
    }
  }

  /** The same, at once: for a decision's fast path, which holds the journal's lock already. */
  private readNewSync(): void {
    let fd;
    try {
      fd = openSync(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      const { size } = fstatSync(fd);
      const from = this.from(size);
      if (size === from) return;
      const buf = Buffer.alloc(size - from);
      readSync(fd, buf, 0, buf.length, from);
      this.consume(buf, from);
    } finally {
      closeSync(fd);
    }
  }

  /** Where to read from in a file of `size` bytes: a file shorter than what was read was replaced or cut. */
  private from(size: number): number {
    if (size < this.offset) this.reset(); // `audit verify` says how; follow what is there
    return this.offset;
  }

  /** Takes the whole lines of bytes read at `from`, unless another read took them meanwhile. */
  private consume(buf: Buffer, from: number): void {
    const end = buf.lastIndexOf(0x0a);
    if (end < 0 || this.offset !== from) return;
    for (const line of buf.subarray(0, end).toString('utf8').split('\n')) this.take(line);
    this.offset += end + 1;
  }

  private reset(): void {
    this.offset = 0;
    this.head = { seq: 0, hash: '' };
    this.bySlide.clear();
    this.unapplied = [];
  }

  private take(line: string): void {
    if (!line.trim()) return;
    let e: JournalEntry;
    try {
      e = JSON.parse(line) as JournalEntry;
    } catch {
      return; // a torn or edited line: `audit verify` reports it
    }
    this.head = { seq: e.seq, hash: e.hash };
    const list = this.bySlide.get(e.sha256) ?? [];
    list.push(decisionOf(e));
    this.bySlide.set(e.sha256, list);
    this.unapplied.push(e);
  }

  /** A slide's decisions as of the last read, oldest first. */
  decisionsOf(sha256: string): readonly Decision[] {
    return this.bySlide.get(sha256) ?? [];
  }

  /** Entries after `seq` (the store's head), in order; older ones are forgotten. */
  entriesAfter(seq: number): JournalEntry[] {
    this.unapplied = this.unapplied.filter((e) => e.seq > seq);
    return this.unapplied;
  }

  /**
   * Appends the entry `build` makes from the slide's decisions up to this moment, under the journal's lock,
   * and returns it once it is on disk (fsync). `build` returning null appends nothing. When the lock is free
   * it is all done at once (about 2 ms): a decision is then on disk before the screen has redrawn, instead
   * of after a dozen turns of an event loop busy drawing the next slide.
   */
  async append<T>(sha256: string, build: Build<T>): Promise<Made<T> | null> {
    const release = tryLockSync(this.file);
    if (release) {
      try {
        this.readNewSync();
        const made = build(this.decisionsOf(sha256));
        const at = this.offset;
        return made && this.took(made.extra, appendJournalSync(this.file, this.head, made.input, at === 0), at);
      } finally {
        release();
      }
    }
    const releaseLater = await acquireLock(this.file);
    try {
      await this.catchUp();
      const made = build(this.decisionsOf(sha256));
      const at = this.offset;
      return made && this.took(made.extra, await appendJournal(this.file, this.head, made.input, at === 0), at);
    } finally {
      await releaseLater().catch(() => undefined);
    }
  }

  /** Runs fn under the journal's lock, on the journal as it stands (leases are decided this way). */
  async underLock<T>(fn: () => T): Promise<T> {
    const release = tryLockSync(this.file);
    if (release) {
      try {
        this.readNewSync();
        return fn();
      } finally {
        release();
      }
    }
    const releaseLater = await acquireLock(this.file);
    try {
      await this.catchUp();
      return fn();
    } finally {
      await releaseLater().catch(() => undefined);
    }
  }

  /**
   * Our own line, appended under the lock at `at`: the next one in the file. A read of this process that
   * ran while it was being written may have taken it already (the offset then moved on, and it is not
   * taken twice).
   */
  private took<T>(extra: T, { entry, line }: { entry: JournalEntry; line: string }, at: number): Made<T> {
    this.consume(Buffer.from(line), at);
    return { entry, extra };
  }
}

type Build<T> = (decisions: readonly Decision[]) => { input: JournalInput; extra: T } | null;
type Made<T> = { entry: JournalEntry; extra: T };

// The audit journal as this process follows it: its head (last seq and hash), each slide's decisions, and
// the entries the store has not applied yet. It is read once at open, then only the bytes added since, so
// that a decision costs an append and an fsync under the journal's own lock — not a read and rewrite of
// the whole store, which takes seconds at tens of thousands of slides.
import fs from 'node:fs/promises';
import { appendJournal, type JournalEntry, type JournalInput } from './journal.js';
import { acquireLock } from './lock.js';
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
    const next = this.reading.then(() => this.readNew());
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
      if (size < this.offset) this.reset(); // replaced or cut: `audit verify` says how; follow what is there
      if (size === this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      await h.read(buf, 0, buf.length, this.offset);
      const end = buf.lastIndexOf(0x0a);
      if (end < 0) return;
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) this.take(line);
      this.offset += end + 1;
    } finally {
      await h.close();
    }
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
   * and returns it once it is on disk (fsync). `build` returning null appends nothing.
   */
  async append<T>(sha256: string, build: (decisions: readonly Decision[]) => { input: JournalInput; extra: T } | null): Promise<{ entry: JournalEntry; extra: T } | null> {
    const release = await acquireLock(this.file);
    try {
      await this.catchUp();
      const made = build(this.decisionsOf(sha256));
      if (!made) return null;
      const entry = await appendJournal(this.file, this.head, made.input);
      await this.catchUp(); // our own line, read back like any other
      return { entry, extra: made.extra };
    } finally {
      await release().catch(() => undefined);
    }
  }
}

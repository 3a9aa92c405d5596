// The embedded store: one SQLite file (WAL) that several processes share. Every write is one
// `BEGIN IMMEDIATE` transaction, committed with a sync, so a decision and its journal row are on disk
// together when `decide` returns, and a process killed at any moment leaves the last committed state.
import type { JournalEntry, VerifyResult } from '../journal.js';
import { withQueueIndexesAfter } from './bulk.js';
import { appendHead, headsFileOf, headsProblems, readHeads, startHeadsFile } from '../heads.js';
import { leasedByOther, LEASE_MS } from '../leases.js';
import type { Lease, Prediction, StoreData } from '../schema.js';
import * as steps from '../steps/decisions.js';
import type { DecisionQuery } from '../steps/decisions.js';
import { recordFiles } from '../steps/files.js';
import { runSync } from '../steps/run.js';
import type { Claim, ClaimOptions, Decided, DecisionInput, FileOp, Identity, SlideStore, StoreRecords } from '../types.js';
import { FileGuard, openDatabase, openDatabaseReadOnly, writeWithRetry, type Db, type OpenOptions } from './connection.js';
import { FileRecords } from './files.js';
import { JournalTable } from './journal.js';
import { LeaseTable } from './leases.js';
import { QueueQueries } from './queue.js';
import { fileOf, predictionParams, slideOf, type FileRow, type SlideRow } from '../rows.js';
import { Statements } from './statements.js';

export class SqliteStore implements SlideStore {
  private readonly files: FileRecords;
  private readonly journal: JournalTable;
  private readonly leases: LeaseTable;
  private readonly queue: QueueQueries;
  private readonly q: Statements;
  private readonly guard: FileGuard;

  private constructor(
    private readonly db: Db,
    readonly location: string,
    readonly identity: Identity,
    private readonly busyMs = 10_000,
  ) {
    this.files = new FileRecords(db);
    this.journal = new JournalTable(db);
    this.leases = new LeaseTable(db);
    this.queue = new QueueQueries(db);
    this.q = new Statements(db);
    this.guard = new FileGuard(location);
  }

  static async open(file: string, identity: Identity, o: OpenOptions = {}): Promise<SqliteStore> {
    if (o.readOnly) return new SqliteStore(openDatabaseReadOnly(file), file, identity, o.busyMs);
    const store = new SqliteStore(await openDatabase(file, o), file, identity, o.busyMs);
    store.startHeads();
    return store;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** A write transaction (BEGIN IMMEDIATE), waiting for another process's; a full disk is said in words. */
  private async write<T>(fn: () => T): Promise<T> {
    return writeWithRetry(this.db, this.location, fn, this.busyMs, this.guard);
  }

  async fileEntry(rel: string) {
    return this.files.get(rel);
  }

  async presentFiles() {
    return this.q.presentFiles.all();
  }

  async recordFiles(ops: FileOp[]) {
    return this.write(() => runSync(recordFiles(ops), (q) => this.files.answer(q)));
  }

  async rejectedFiles(limit = -1) {
    return this.q.rejected.all(limit).map((r: FileRow) => fileOf(r));
  }

  async slide(sha256: string) {
    const r = this.q.slide.get(sha256) as SlideRow | undefined;
    return r ? slideOf(r) : null;
  }

  async addPrediction(sha256: string, p: Prediction) {
    await this.write(() => this.q.addPrediction.run(predictionParams(sha256, p)));
  }

  async addExplanations(sha256: string, modelId: string, files: Record<string, string>) {
    await this.write(() => {
      const r = this.q.latestPrediction.get(sha256, modelId);
      if (r) this.q.setExplanations.run(JSON.stringify({ ...JSON.parse(r.explanations), ...files }), r.id);
    });
  }

  async unpredicted(modelId: string, limit: number) {
    return this.queue.unpredicted(modelId, limit);
  }

  async queueOrder(q: Parameters<QueueQueries['order']>[0]) {
    return this.queue.order(q);
  }

  async queueWindow(q: Parameters<QueueQueries['order']>[0], around: { sha256: string | null; index: number }, size: number) {
    return this.queue.window(q, around, size);
  }

  async queueRows(sha256s: string[], modelId: string | null) {
    const leases = this.leases.live();
    const rows = this.queue.rows(sha256s, modelId);
    for (const r of rows) r.openBy = openByOther(leases[r.sha256]);
    return rows;
  }

  async summary() {
    return this.queue.summary();
  }

  async queueCheck() {
    return this.queue.check();
  }

  async decisionsOf(sha256: string) {
    return this.journal.decisionsOf(sha256);
  }

  async predictionsOf(sha256: string) {
    return this.queue.predictionsOf(sha256);
  }

  async labelledSlides() {
    return this.queue.labelled();
  }

  async changeStamp() {
    return String(this.db.pragma('data_version', { simple: true }));
  }

  /** The answers to the decision steps, inside a write transaction. */
  private answer(query: DecisionQuery): unknown {
    switch (query.q) {
      case 'slideExists':
        return !!this.q.slide.get(query.sha256);
      case 'decisions':
        return this.journal.decisionsOf(query.sha256);
      case 'append':
        return this.journal.append(query.input);
      case 'lease':
        return this.leases.get(query.sha256);
      case 'putLease':
        return this.leases.put(query.sha256, query.lease);
      case 'decidedBy':
        return this.leases.decidedBy(query.sha256);
    }
  }

  /** Confirms or corrects a slide's label: the journal row and the slide's label in one transaction. */
  async decide(input: DecisionInput): Promise<Decided> {
    return this.journalled(() => runSync(steps.decide(input, this.identity), (q) => this.answer(q)));
  }

  async undo(sha256: string): Promise<JournalEntry | null> {
    return this.journalled(() => runSync(steps.undo(sha256, this.identity), (q) => this.answer(q)));
  }

  /**
   * A write that adds to the journal, then copied from the write-ahead log into the database file itself (a
   * passive checkpoint, about a millisecond): a log deleted later takes no acknowledged decision with it.
   */
  private async journalled<T>(fn: () => T): Promise<T> {
    const result = await this.write(fn); // the guard checked the log around it
    // Both after the commit, which is durable in the log already: a full disk here must not make a saved
    // decision look refused. A head not appended leaves a gap in the heads file, which verify allows.
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
      appendHead(headsFileOf(this.location), this.journal.head());
    } catch {
      // the next decision's checkpoint and head cover this one
    }
    return result;
  }

  async claim(sha256: string, o: ClaimOptions = {}): Promise<Claim> {
    return this.write(() => runSync(steps.claim(sha256, o, this.identity), (q) => this.answer(q)));
  }

  async lease(sha256: string, ttlMs = LEASE_MS, override = false) {
    return (await this.claim(sha256, { ttlMs, override })).ok;
  }

  async releaseLease(sha256: string) {
    await this.write(() => this.leases.release(sha256));
  }

  /** The first slide of `order` that has no label and no live lease of another instance, leased to us. */
  async leaseNext(order: string[], ttlMs = LEASE_MS) {
    for (const sha of order) if (this.q.slide.get(sha) && (await this.claim(sha, { ttlMs, unlabelledOnly: true })).ok) return sha;
    return null;
  }

  async liveLeases() {
    return this.leases.live();
  }

  async putLease(sha256: string, lease: Lease) {
    await this.write(() => this.leases.put(sha256, lease));
  }

  async journalEntries() {
    return this.journal.entries();
  }

  /**
   * The journal's chain and links, the slides' labels replayed from it, the heads kept outside the database
   * (../heads.ts), and first SQLite's own check of the pages of the journal and slides: a damaged page once
   * made export write 11 of 20 labelled slides with exit 0.
   */
  async verifyJournal(): Promise<VerifyResult> {
    const damaged = (table: string) => (this.db.pragma(`quick_check(${table})`) as Array<{ quick_check: string }>).map((r) => r.quick_check).filter((m) => m !== 'ok');
    let result: VerifyResult;
    try {
      const pages = [...damaged('journal'), ...damaged('slides')].slice(0, 10);
      if (pages.length) return { ok: false, entries: 0, problems: pages.map((m) => `the database file is damaged: ${m}`) };
      result = this.journal.verify();
    } catch (err) {
      return { ok: false, entries: 0, problems: [`the database file is damaged: ${(err as Error).message}`] };
    }
    result.problems.push(...this.headsCheck());
    const ok = result.problems.length === 0;
    // The next start checks from here on (verifyRecent); a read-only opening leaves the mark where it was.
    // Not recording it (a full disk) takes nothing from the check: the next start checks from further back.
    if (ok && !this.db.readonly) await this.write(() => this.journal.markVerified(this.journal.head())).catch(() => undefined);
    return { ...result, ok };
  }

  /**
   * The check before the app's first frame, cheap at any size: SQLite's check of the journal's pages, the
   * entries since the journal last verified whole and the labels of the slides they name, and the heads
   * recorded since. The whole check (verifyJournal) follows in the background.
   */
  async verifyRecent(): Promise<VerifyResult> {
    try {
      const pages = (this.db.pragma('quick_check(journal)') as Array<{ quick_check: string }>).map((r) => r.quick_check).filter((m) => m !== 'ok');
      if (pages.length) return { ok: false, entries: 0, problems: pages.slice(0, 10).map((m) => `the database file is damaged: ${m}`) };
      const result = this.journal.verifyRecent();
      result.problems.push(...this.headsCheck(result.from.seq));
      return { ...result, ok: result.problems.length === 0 };
    } catch (err) {
      return { ok: false, entries: 0, problems: [`the database file is damaged: ${(err as Error).message}`] };
    }
  }

  /** The journal against the heads file beside the store (the heads after `from`, when given). */
  private headsCheck(from = 0): string[] {
    const heads = readHeads(headsFileOf(this.location));
    if (heads === null) return this.metaValue('heads_file') ? [`${headsFileOf(this.location)}, the journal's heads kept outside the database, is missing`] : [];
    const hashOf = this.db.prepare<[number], string>('SELECT hash FROM journal WHERE seq = ?').pluck();
    return headsProblems(
      heads.filter((h) => h.seq > from),
      (seq) => hashOf.get(seq),
      this.journal.head().seq,
    );
  }

  /** Starts the heads file of a store that has none yet, with its current head (a store of an earlier version). */
  private startHeads(): void {
    if (this.metaValue('heads_file')) return;
    const head = this.journal.head();
    try {
      if (head.seq > 0) appendHead(headsFileOf(this.location), head);
      else startHeadsFile(headsFileOf(this.location));
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('heads_file', ?) ON CONFLICT (key) DO NOTHING").run(new Date().toISOString());
    } catch {
      // another process's write held the store (or the disk is full): the next opening starts the file
    }
  }

  /** The journal's last entry (seq 0 and no hash when empty): what `audit anchor` prints for a notary. */
  async journalHead() {
    return this.journal.head();
  }

  async dump(): Promise<StoreData> {
    return this.db.transaction(() =>
      this.q.dump(
        this.journal.head(),
        (sha) => this.journal.decisionsOf(sha),
        (sha) => this.queue.predictionsOf(sha),
      ),
    )();
  }

  async importRecords(r: StoreRecords) {
    const rows = { slides: r.slides?.length ?? 0, ranks: r.predictions?.length ?? 0 };
    await this.write(() =>
      withQueueIndexesAfter(this.db, rows, () => {
        for (const s of r.slides ?? []) this.q.putSlide.run(s.sha256, s.path, s.width, s.height, s.addedAt);
        for (const f of r.files ?? []) this.q.putFile(f);
        for (const p of r.predictions ?? []) this.q.addPrediction.run(predictionParams(p.sha256, p.prediction));
        this.journal.insertMany(r.journal ?? []);
        for (const a of r.setAside ?? []) this.q.setAside.run(new Date().toISOString(), a.source, a.what, Buffer.from(a.text));
        this.q.markAllGone.run();
      }),
    );
    if (r.journal?.length) appendHead(headsFileOf(this.location), this.journal.head());
  }

  private metaValue(key: string): string | undefined {
    return this.db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck().get(key);
  }
}

/** The technician of a live lease of another instance, else null. */
function openByOther(lease: Lease | undefined): string | null {
  return lease && leasedByOther(lease) ? lease.technician : null;
}

// The embedded store: one SQLite file (WAL) that several processes share. Every write is one
// `BEGIN IMMEDIATE` transaction, committed with a sync, so a decision and its journal row are on disk
// together when `decide` returns, and a process killed at any moment leaves the last committed state.
import type { JournalEntry, JournalInput } from '../journal.js';
import { leasedByOther, LEASE_MS } from '../leases.js';
import { currentOf, labelStack, type Decision, type Lease, type Prediction, type StoreData } from '../schema.js';
import type { Claim, ClaimOptions, Decided, DecisionInput, FileOp, Identity, SlideStore, StoreRecords } from '../types.js';
import { openDatabase, writeWithRetry, type Db, type OpenOptions } from './connection.js';
import { FileRecords } from './files.js';
import { JournalTable } from './journal.js';
import { LeaseTable } from './leases.js';
import { QueueQueries } from './queue.js';
import { fileOf, predictionParams, slideOf, type FileRow, type SlideRow } from './rows.js';
import { Statements } from './statements.js';

export class SqliteStore implements SlideStore {
  private readonly files: FileRecords;
  private readonly journal: JournalTable;
  private readonly leases: LeaseTable;
  private readonly queue: QueueQueries;
  private readonly q: Statements;

  private constructor(
    private readonly db: Db,
    readonly location: string,
    readonly identity: Identity,
    private readonly busyMs = 10_000,
  ) {
    this.files = new FileRecords(db);
    this.journal = new JournalTable(db);
    this.leases = new LeaseTable(db, identity.technician);
    this.queue = new QueueQueries(db);
    this.q = new Statements(db);
  }

  static async open(file: string, identity: Identity, o: OpenOptions = {}): Promise<SqliteStore> {
    return new SqliteStore(await openDatabase(file, o), file, identity, o.busyMs);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** A write transaction (BEGIN IMMEDIATE), waiting for another process's; a full disk is said in words. */
  private async write<T>(fn: () => T): Promise<T> {
    return writeWithRetry(this.db, this.location, fn, this.busyMs);
  }

  async fileEntry(rel: string) {
    return this.files.get(rel);
  }

  async presentFiles() {
    return this.q.presentFiles.all();
  }

  async recordFiles(ops: FileOp[]) {
    return this.write(() => this.files.record(ops));
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

  async queueRows(sha256s: string[], modelId: string | null) {
    const leases = this.leases.live();
    const rows = this.queue.rows(sha256s, modelId);
    for (const r of rows) r.openBy = openByOther(leases[r.sha256]);
    return rows;
  }

  async summary() {
    return this.queue.summary();
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

  private entryFields(sha256: string, current: Decision | null) {
    return { sha256, previousLabel: current?.label ?? null, technician: this.identity.technician, displayName: this.identity.displayName };
  }

  /** Confirms or corrects a slide's label: the journal row and the slide's label in one transaction. */
  async decide(input: DecisionInput): Promise<Decided> {
    return this.write(() => {
      if (!this.q.slide.get(input.sha256)) throw new Error(`no slide with sha256 ${input.sha256}`);
      const current = currentOf(this.journal.decisionsOf(input.sha256));
      const overrode = input.seen !== undefined && (current?.label ?? null) !== input.seen ? current : null;
      const fields: JournalInput = {
        ...this.entryFields(input.sha256, current),
        action: input.action,
        predicted: input.predicted,
        probabilities: input.probabilities,
        label: input.label,
        modelId: input.modelId,
        note: input.note ?? '',
      };
      return { entry: this.journal.append(fields), overrode };
    });
  }

  /** Undoes the slide's last decision with a new entry that restores the label before it. */
  async undo(sha256: string): Promise<JournalEntry | null> {
    return this.write(() => {
      const decisions = this.journal.decisionsOf(sha256);
      const stack = labelStack(decisions);
      if (!stack.length) return null;
      const last = decisions.at(-1)!;
      const label = stack.length >= 2 ? stack[stack.length - 2] : null;
      return this.journal.append({ ...this.entryFields(sha256, last), action: 'undo', predicted: last.predicted, probabilities: null, label, modelId: last.modelId, note: '' });
    });
  }

  async claim(sha256: string, o: ClaimOptions = {}): Promise<Claim> {
    return this.write(() => this.leases.claim(sha256, o));
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

  async verifyJournal() {
    return this.journal.verify();
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
    await this.write(() => {
      for (const s of r.slides ?? []) this.q.putSlide.run(s.sha256, s.path, s.width, s.height, s.addedAt);
      for (const f of r.files ?? []) this.q.putFile(f);
      for (const p of r.predictions ?? []) this.q.addPrediction.run(predictionParams(p.sha256, p.prediction));
      for (const e of r.journal ?? []) this.journal.insert(e);
      for (const a of r.setAside ?? []) this.q.setAside.run(new Date().toISOString(), a.source, a.what, Buffer.from(a.text));
      this.q.markAllGone.run();
    });
  }
}

/** The technician of a live lease of another instance, else null. */
function openByOther(lease: Lease | undefined): string | null {
  return lease && leasedByOther(lease) ? lease.technician : null;
}

// The store on PostgreSQL, for a lab of several machines: the same interface and promises as the SQLite
// store (the same conformance suite), its steps answered on a transaction's client. The journal's chain is
// extended under an advisory lock, leases are claimed one host at a time per slide, and every write moves
// the store_changes sequence, which other hosts poll.
import { hostName } from '../../core/host.js';
import type pg from 'pg';
import type { JournalEntry } from '../journal.js';
import { markProblems, parseMark, verifyTable, type StoredLabel } from '../journal-check.js';

const MARK_UPSERT = "INSERT INTO meta (key, value) VALUES ('verified_through', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
import { leasedByOther, LEASE_MS } from '../leases.js';
import { decisionOfRow, entryOf, fileOf, predictionOf, predictionParams, slideOf, type JournalRow } from '../rows.js';
import { bareRecord, STORE_VERSION, type Lease, type Prediction, type StoreData } from '../schema.js';
import * as steps from '../steps/decisions.js';
import { recordFiles } from '../steps/files.js';
import { runAsync } from '../steps/run.js';
import type { Claim, ClaimOptions, Decided, DecisionInput, FileOp, Identity, QueueQuery, SlideStore, StoreRecords } from '../types.js';
import { answerDecision, answerFile, MARK_GONE } from './answers.js';
import { insertEntries, insertFiles, insertPredictions, insertSlides } from './bulk.js';
import { displayAddress, migrate, openPool, transaction } from './connection.js';
import * as queue from './queue.js';

export class PgStore implements SlideStore {
  private constructor(
    private readonly db: pg.Pool,
    readonly location: string,
    readonly identity: Identity,
  ) {}

  static async open(url: string, identity: Identity): Promise<PgStore> {
    const pool = openPool(url);
    try {
      await migrate(pool, displayAddress(url));
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PgStore(pool, displayAddress(url), identity);
  }

  async close() {
    await this.db.end();
  }

  /** One write transaction, which moves the change stamp. */
  private write<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.db, async (c) => {
      await c.query("SELECT nextval('store_changes')");
      return fn(c);
    });
  }

  private async rows<T = Record<string, unknown>>(sql: string, args: unknown[] = []): Promise<T[]> {
    return (await this.db.query(sql, args)).rows as T[];
  }

  async fileEntry(rel: string) {
    const [row] = await this.rows('SELECT * FROM files WHERE path = $1', [rel]);
    return row && fileOf(row as never);
  }

  async presentFiles() {
    return (await this.rows<{ path: string }>("SELECT path FROM files WHERE state <> 'gone'")).map((r) => r.path);
  }

  async recordFiles(ops: FileOp[]) {
    return this.write((c) => runAsync(recordFiles(ops), (q) => answerFile(c, q)));
  }

  async rejectedFiles(limit?: number) {
    return (await this.rows(`SELECT * FROM files WHERE state = 'rejected' ORDER BY path ${limit === undefined ? '' : 'LIMIT $1'}`, limit === undefined ? [] : [limit])).map((r) => fileOf(r as never));
  }

  async slide(sha256: string) {
    const [row] = await this.rows('SELECT * FROM slides WHERE sha256 = $1', [sha256]);
    return row ? slideOf(row as never) : null;
  }

  async addPrediction(sha256: string, p: Prediction) {
    await this.write((c) => insertPrediction(c, sha256, p));
  }

  async addExplanations(sha256: string, modelId: string, files: Record<string, string>) {
    await this.write(async (c) => {
      const [r] = (await c.query('SELECT id, explanations FROM predictions WHERE sha256 = $1 AND model_id = $2 ORDER BY id DESC LIMIT 1 FOR UPDATE', [sha256, modelId])).rows;
      if (r) await c.query('UPDATE predictions SET explanations = $1 WHERE id = $2', [JSON.stringify({ ...JSON.parse(r.explanations), ...files }), r.id]);
    });
  }

  async unpredicted(modelId: string, limit: number) {
    const keys = await queue.unranked(this.db, modelId, limit);
    const rows = keys.length ? await this.rows('SELECT * FROM slides WHERE sha256 = ANY($1)', [keys]) : [];
    const bySha = new Map(rows.map((r) => [r.sha256 as string, slideOf(r as never)]));
    return keys.flatMap((k) => bySha.get(k) ?? []);
  }

  queueOrder(q: QueueQuery) {
    return queue.queueOrder(this.db, q);
  }

  queueWindow(q: QueueQuery, around: { sha256: string | null; index: number }, size: number) {
    return queue.queueWindow(this.db, q, around, size);
  }

  async queueRows(sha256s: string[], modelId: string | null) {
    const [leases, rows] = await Promise.all([this.liveLeases(), queue.queueRows(this.db, sha256s, modelId)]);
    for (const r of rows) r.openBy = leases[r.sha256] && leasedByOther(leases[r.sha256]) ? leases[r.sha256].technician : null;
    return rows;
  }

  summary() {
    return queue.summary(this.db);
  }

  queueCheck() {
    return queue.queueCheck(this.db);
  }

  private async journalRows(where = '', args: unknown[] = []): Promise<JournalEntry[]> {
    return (await this.rows<JournalRow>(`SELECT * FROM journal ${where} ORDER BY seq`, args)).map(entryOf);
  }

  async decisionsOf(sha256: string) {
    return (await this.rows<JournalRow>('SELECT * FROM journal WHERE sha256 = $1 ORDER BY seq', [sha256])).map(decisionOfRow);
  }

  async predictionsOf(sha256: string) {
    return (await this.rows('SELECT * FROM predictions WHERE sha256 = $1 ORDER BY id', [sha256])).map((r) => predictionOf(r as never));
  }

  labelledSlides() {
    return queue.labelled(this.db);
  }

  /** Moves with every write of any host (this one's included: the app then refreshes once more than it needs). */
  async changeStamp() {
    return String((await this.rows<{ v: number }>('SELECT last_value AS v FROM store_changes'))[0].v);
  }

  decide(input: DecisionInput): Promise<Decided> {
    return this.write((c) => runAsync(steps.decide(input, this.identity), (q) => answerDecision(c, q)));
  }

  undo(sha256: string): Promise<JournalEntry | null> {
    return this.write((c) => runAsync(steps.undo(sha256, this.identity), (q) => answerDecision(c, q)));
  }

  claim(sha256: string, o: ClaimOptions = {}): Promise<Claim> {
    return this.write((c) => runAsync(steps.claim(sha256, o, this.identity), (q) => answerDecision(c, q)));
  }

  async lease(sha256: string, ttlMs = LEASE_MS, override = false) {
    return (await this.claim(sha256, { ttlMs, override })).ok;
  }

  async releaseLease(sha256: string) {
    await this.write((c) => c.query('DELETE FROM leases WHERE sha256 = $1 AND pid = $2 AND host = $3', [sha256, process.pid, hostName()]));
  }

  async leaseNext(order: string[], ttlMs = LEASE_MS) {
    for (const sha of order) if ((await this.slide(sha)) && (await this.claim(sha, { ttlMs, unlabelledOnly: true })).ok) return sha;
    return null;
  }

  async liveLeases() {
    const out = bareRecord<Lease>();
    for (const r of await this.rows('SELECT * FROM leases WHERE expires_at > $1', [Date.now()]))
      out[r.sha256 as string] = { technician: r.technician as string, pid: r.pid as number, host: r.host as string, expiresAt: r.expires_at as number };
    return out;
  }

  async putLease(sha256: string, lease: Lease) {
    await this.write((c) => answerDecision(c, { q: 'putLease', sha256, lease }));
  }

  journalEntries() {
    return this.journalRows();
  }

  async journalHead() {
    const [head] = await this.rows<{ seq: number; hash: string }>('SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1');
    return head ?? { seq: 0, hash: '' };
  }

  async verifyJournal() {
    const [head] = await this.rows<{ value: string }>("SELECT value FROM meta WHERE key = 'journal_head'");
    const [labelled] = await this.rows<{ n: number | null }>('SELECT MAX(label_seq) AS n FROM slides');
    // EXISTS, not IN (SELECT …): at a million slides IN's list of journal rows outgrew work_mem, and the plan
    // looked it up row by row (past the 30 s query timeout); EXISTS probes journal_by_slide.
    const labels = await this.rows<StoredLabel>('SELECT sha256, label FROM slides WHERE label IS NOT NULL OR EXISTS (SELECT 1 FROM journal j WHERE j.sha256 = slides.sha256)');
    const result = verifyTable(await this.journalRows(), head?.value ?? null, labelled?.n ?? 0, labels);
    // The next start checks from here on (verifyRecent); not recording it takes nothing from the check.
    const last = result.ok ? await this.journalHead() : null;
    if (last?.seq) await this.write((c) => c.query(MARK_UPSERT, [`${last.seq}:${last.hash}`])).catch(() => undefined);
    return result;
  }

  /** The entries since the journal last verified whole, and the labels of the slides they name (SQLite's verifyRecent). */
  async verifyRecent() {
    const [mark] = await this.rows<{ value: string }>("SELECT value FROM meta WHERE key = 'verified_through'");
    const from = parseMark(mark?.value);
    const [head] = await this.rows<{ value: string }>("SELECT value FROM meta WHERE key = 'journal_head'");
    const [labelled] = await this.rows<{ n: number | null }>('SELECT MAX(label_seq) AS n FROM slides');
    const labels = await this.rows<StoredLabel>('SELECT sha256, label FROM slides WHERE sha256 IN (SELECT sha256 FROM journal WHERE seq > $1)', [from.seq]);
    const result = verifyTable(await this.journalRows('WHERE seq > $1', [from.seq]), head?.value ?? null, labelled?.n ?? 0, labels, from);
    const [atMark] = await this.rows<{ hash: string }>('SELECT hash FROM journal WHERE seq = $1', [from.seq]);
    result.problems.unshift(...markProblems(from, atMark?.hash));
    return { ...result, ok: result.problems.length === 0 };
  }

  /** The whole store in the JSON store's shape, from one snapshot (a repeatable-read transaction). */
  async dump(): Promise<StoreData> {
    return transaction(this.db, async (c) => {
      await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const all = async (sql: string) => (await c.query(sql)).rows;
      const head = (await all('SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1'))[0] ?? { seq: 0, hash: '' };
      const data: StoreData = {
        schemaVersion: STORE_VERSION,
        files: bareRecord(),
        slides: bareRecord(),
        predictions: bareRecord(),
        decisions: bareRecord(),
        journalHead: { seq: head.seq, hash: head.hash },
      };
      for (const r of await all('SELECT * FROM files ORDER BY recorded')) data.files[r.path] = fileOf(r);
      for (const r of await all('SELECT * FROM slides ORDER BY recorded')) data.slides[r.sha256] = slideOf(r);
      for (const r of await all('SELECT * FROM predictions ORDER BY id')) (data.predictions[r.sha256] ??= []).push(predictionOf(r));
      for (const r of await all('SELECT * FROM journal ORDER BY seq')) (data.decisions[r.sha256] ??= []).push(decisionOfRow(r));
      return data;
    });
  }

  async importRecords(r: StoreRecords) {
    await this.write(async (c) => {
      await insertSlides(c, r.slides ?? []);
      await insertFiles(c, r.files ?? []);
      await insertPredictions(c, r.predictions ?? []);
      await insertEntries(c, r.journal ?? []);
      for (const a of r.setAside ?? []) await c.query('INSERT INTO set_aside (at, source, what, bytes) VALUES ($1, $2, $3, $4)', [new Date().toISOString(), a.source, a.what, Buffer.from(a.text)]);
      await c.query(MARK_GONE);
    });
    // A large import (a migration, a copy) leaves the planner without statistics for its tables until
    // autovacuum comes round: the queue's index reads would be planned blind meanwhile.
    const rows = (r.slides?.length ?? 0) + (r.predictions?.length ?? 0) + (r.journal?.length ?? 0);
    if (rows >= 10_000) await this.db.query('ANALYZE slides, files, predictions, journal, ranks, tallies');
  }
}

/** A prediction, with the host that computed it. */
async function insertPrediction(c: pg.PoolClient, sha256: string, p: Prediction): Promise<void> {
  const v = predictionParams(sha256, p);
  // One per slide and model: a second (a job done again after its worker was thought dead) is dropped.
  await c.query(
    'INSERT INTO predictions (sha256, model_id, label, probabilities, at, explanations, ood, margin, unusual, host) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (sha256, model_id) DO NOTHING',
    [v.sha256, v.model_id, v.label, v.probabilities, v.at, v.explanations, v.ood, v.margin, v.unusual === 1, hostName()],
  );
}

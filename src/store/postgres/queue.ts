// The queue and the counts in PostgreSQL: the same queries as the SQLite store's (../sqlite/queue.ts).
import type pg from 'pg';
import { rankProblems, summaryOfTallies, tallyProblems, type StoreSummary } from '../summary.js';
import { PG_RANKS_EXPECTED, PG_TALLIES_EXPECTED } from './schema.js';
import { armCountBeforeSql, armKeyOfSql, armKeysAroundSql, armKeysSql } from '../queue-plan.js';
import { queueKeys, queueWindow as windowSteps, unrankedToReview, type QueueWindow, type WindowQuery } from '../steps/queue-window.js';
import { runAsync } from '../steps/run.js';
import { transaction } from './connection.js';
import type { LabelledSlide, QueueQuery, QueueRow } from '../types.js';
import { decisionOfRow, predictionOf, queueRowOf } from '../rows.js';

const PICK = `COALESCE(
  (SELECT id FROM predictions p WHERE p.sha256 = s.sha256 AND p.model_id = $1 ORDER BY id DESC LIMIT 1),
  (SELECT id FROM predictions p WHERE p.sha256 = s.sha256 ORDER BY id DESC LIMIT 1))`;

const PG = { bool: (b: boolean) => (b ? 'TRUE' : 'FALSE') };

/** Answers a window step on the transaction's client (numeric columns come back as numbers). */
async function answer(c: pg.PoolClient, q: WindowQuery): Promise<unknown> {
  if (q.q === 'tallies') {
    const { rows } =
      q.kind === 'slides'
        ? await c.query("SELECT key, n::float8 AS n FROM tallies WHERE kind = 'slides'")
        : await c.query("SELECT key, n::float8 AS n FROM tallies WHERE kind = 'rank' AND starts_with(key, $1)", [q.model === null ? '' : `${q.model}\u001f`]);
    return rows;
  }
  const params: unknown[] = [];
  const p = (v: unknown) => (params.push(v === Infinity ? null : v), `$${params.length}`);
  switch (q.q) {
    case 'keys':
      return (await c.query(armKeysSql(q.arm, p, PG, q), params)).rows.map((r) => r.sha256 as string);
    case 'keyOf':
      return (await c.query({ text: armKeyOfSql(q.arm, p, PG, q.sha256), values: params, rowMode: 'array' })).rows[0] ?? null;
    case 'around':
      return (await c.query(armKeysAroundSql(q.arm, p, PG, q.key, q.dir, q.limit), params)).rows.map((r) => r.sha256 as string);
    case 'countBefore':
      return Number((await c.query(armCountBeforeSql(q.arm, p, PG, q.key), params)).rows[0].n);
  }
}

/** One snapshot for the steps of a read (repeatable read). */
const snapshot = <T>(db: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>) =>
  transaction(db, async (c) => {
    await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    return fn(c);
  });

export async function queueOrder(db: pg.Pool, query: QueueQuery): Promise<string[]> {
  return snapshot(db, (c) => runAsync(queueKeys(query), (q) => answer(c, q)));
}

export async function queueWindow(db: pg.Pool, query: QueueQuery, around: { sha256: string | null; index: number }, size: number): Promise<QueueWindow> {
  return snapshot(db, (c) => runAsync(windowSteps(query, around, size), (q) => answer(c, q)));
}

export async function queueRows(db: pg.Pool, sha256s: string[], modelId: string | null): Promise<QueueRow[]> {
  if (!sha256s.length) return [];
  const { rows } = await db.query(
    `SELECT s.sha256, s.path, s.added_at, s.label AS slide_label, p.id, p.model_id, p.label, p.probabilities, p.at, p.explanations, p.ood
     FROM (SELECT s.*, ${PICK} AS pid FROM slides s WHERE s.sha256 = ANY($2)) s LEFT JOIN predictions p ON p.id = s.pid`,
    [modelId, sha256s],
  );
  const bySha = new Map(rows.map((r) => [r.sha256 as string, r]));
  return sha256s.flatMap((sha) => {
    const r = bySha.get(sha);
    if (!r) return [];
    const p = r.id === null ? null : predictionOf(r);
    return [queueRowOf({ sha256: sha, path: r.path, addedAt: r.added_at, label: r.slide_label }, p)];
  });
}

export async function labelled(db: pg.Pool): Promise<LabelledSlide[]> {
  const { rows } = await db.query('SELECT j.*, s.path AS slide_path, s.width, s.height, s.added_at FROM slides s JOIN journal j ON j.seq = s.label_seq ORDER BY s.recorded');
  return rows.map((r) => ({ slide: { sha256: r.sha256, path: r.slide_path, width: r.width, height: r.height, addedAt: r.added_at }, decision: decisionOfRow(r) }));
}

export async function summary(db: pg.Pool): Promise<StoreSummary> {
  return snapshot(db, async (c) => {
    const tallies = (await c.query("SELECT kind, key, n::float8 AS n FROM tallies WHERE kind IN ('files', 'rejected', 'slides', 'label', 'rank')")).rows;
    return summaryOfTallies(tallies, Number((await c.query('SELECT COALESCE(MAX(seq), 0) AS n FROM journal')).rows[0].n));
  });
}

/** The rank rows and tallies against a count of the tables, in one snapshot (see SlideStore.queueCheck). */
export async function queueCheck(db: pg.Pool): Promise<string[]> {
  return snapshot(db, async (c) => {
    const kept = (await c.query('SELECT kind, key, n FROM tallies')).rows;
    const counted = (await c.query({ text: PG_TALLIES_EXPECTED, rowMode: 'array' })).rows.map(([kind, key, n]) => ({ kind, key, n }));
    const RANKS = 'SELECT model_id, sha256, pid, label, calm, margin, gone, labelled, added_at, path FROM ranks';
    const count = async (sql: string) => Number((await c.query(`SELECT COUNT(*) AS n FROM (${sql}) x`)).rows[0].n);
    return rankProblems(await count(`(${PG_RANKS_EXPECTED}) EXCEPT ${RANKS}`), await count(`${RANKS} EXCEPT (${PG_RANKS_EXPECTED})`)).concat(tallyProblems(kept, counted));
  });
}

/** The slides to review the model has not ranked yet (the predictor's next), in one snapshot. */
export async function unranked(db: pg.Pool, modelId: string, limit: number): Promise<string[]> {
  return snapshot(db, (c) => runAsync(unrankedToReview(modelId, limit), (q) => answer(c, q)));
}

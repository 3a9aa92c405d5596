// The queue and the counts in PostgreSQL: the same queries as the SQLite store's (../sqlite/queue.ts).
import type pg from 'pg';
import { summaryOf, type StoreSummary } from '../summary.js';
import type { LabelledSlide, QueueQuery, QueueRow } from '../types.js';
import { decisionOfRow, predictionOf, queueRowOf } from '../rows.js';

const PICK = `COALESCE(
  (SELECT id FROM predictions p WHERE p.sha256 = s.sha256 AND p.model_id = $1 ORDER BY id DESC LIMIT 1),
  (SELECT id FROM predictions p WHERE p.sha256 = s.sha256 ORDER BY id DESC LIMIT 1))`;
const STATE_WHERE: Record<QueueQuery['state'], string> = { all: '', rejected: '', 'to review': 'AND s.label IS NULL', labelled: 'AND s.label IS NOT NULL' };

export async function queueOrder(db: pg.Pool, query: QueueQuery): Promise<string[]> {
  const sort = query.sort === 'arrival' ? 's.added_at, s.path' : 'COALESCE(p.unusual, FALSE) DESC, COALESCE(p.margin, 2), s.added_at, s.path';
  const label = query.label === null ? '' : 'AND p.label = $2';
  const sql = `SELECT s.sha256 FROM (SELECT s.*, ${PICK} AS pid FROM slides s WHERE NOT s.gone ${STATE_WHERE[query.state]}) s
               LEFT JOIN predictions p ON p.id = s.pid WHERE TRUE ${label} ORDER BY ${sort}`;
  const args = query.label === null ? [query.modelId] : [query.modelId, query.label];
  return (await db.query(sql, args)).rows.map((r) => r.sha256 as string);
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
  const rows = async (sql: string) => (await db.query(sql)).rows;
  return summaryOf({
    fileStates: await rows('SELECT state, COUNT(*) AS n FROM files GROUP BY state'),
    rejections: await rows("SELECT COALESCE(code, 'error') AS code, COUNT(*) AS n FROM files WHERE state = 'rejected' GROUP BY 1"),
    slideCounts: await rows('SELECT gone, label IS NOT NULL AS labelled, COUNT(*) AS n FROM slides GROUP BY 1, 2'),
    byLabel: await rows('SELECT label, COUNT(*) AS n FROM slides WHERE label IS NOT NULL GROUP BY label'),
    journalEntries: (await rows('SELECT COALESCE(MAX(seq), 0) AS n FROM journal'))[0].n as number,
  });
}

// The queue and the counts, in SQL: sorted and filtered by the database (on the indexes of slides and
// predictions), a page of rows fetched by their keys, and the status bar's numbers from COUNT queries.
import type { Decision, Prediction, Slide } from '../schema.js';
import { rankProblems, summaryOfTallies, tallyProblems, type StoreSummary } from '../summary.js';
import { RANKS_EXPECTED, TALLIES_EXPECTED } from './migrations.js';
import { armCountBeforeSql, armKeyOfSql, armKeysAroundSql, armKeysSql } from '../queue-plan.js';
import { queueKeys, queueWindow, unrankedToReview, type QueueWindow, type WindowQuery } from '../steps/queue-window.js';
import { runSync } from '../steps/run.js';
import type { LabelledSlide, QueueQuery, QueueRow } from '../types.js';
import type { Db } from './connection.js';

type Statement = ReturnType<Db['prepare']>;
import { decisionOfRow, predictionOf, queueRowOf, slideOf, type JournalRow, type PredictionRow, type SlideRow } from '../rows.js';

/** The prediction a row shows: the model in use's latest, else the slide's latest. */
const PICK = `COALESCE(
  (SELECT id FROM predictions p WHERE p.sha256 = s.sha256 AND p.model_id = @model ORDER BY id DESC LIMIT 1),
  (SELECT id FROM predictions p WHERE p.sha256 = s.sha256 ORDER BY id DESC LIMIT 1))`;

const SQLITE = { bool: (b: boolean) => (b ? '1' : '0') };

export class QueueQueries {
  private readonly q;
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Db) {
    this.q = {
      row: db.prepare<{ sha: string; model: string | null }, SlideRow & { label: string | null; pid: number | null }>(`SELECT s.*, ${PICK} AS pid FROM slides s WHERE s.sha256 = @sha`),
      prediction: db.prepare<[number], PredictionRow>('SELECT * FROM predictions WHERE id = ?'),
      predictions: db.prepare<[string], PredictionRow>('SELECT * FROM predictions WHERE sha256 = ? ORDER BY id'),
      slide: db.prepare<[string], SlideRow>('SELECT * FROM slides WHERE sha256 = ?'),
      labelled: db.prepare<[], SlideRow & JournalRow & { slide_path: string }>(
        'SELECT j.*, s.path AS slide_path, s.width, s.height, s.added_at FROM slides s JOIN journal j ON j.seq = s.label_seq ORDER BY s.rowid',
      ),
      tallies: db.prepare<[], { kind: string; key: string; n: number }>("SELECT kind, key, n FROM tallies WHERE kind IN ('files', 'rejected', 'slides', 'label', 'rank') AND n != 0"),
      slideTallies: db.prepare<[], { key: string; n: number }>("SELECT key, n FROM tallies WHERE kind = 'slides'"),
      allRankTallies: db.prepare<[], { key: string; n: number }>("SELECT key, n FROM tallies WHERE kind = 'rank'"),
      rankTallies: db.prepare<[string, string], { key: string; n: number }>("SELECT key, n FROM tallies WHERE kind = 'rank' AND key >= ? AND key < ?"),
      lastSeq: db.prepare<[], { n: number | null }>('SELECT MAX(seq) AS n FROM journal'),
    };
  }

  /** The keys of the whole queue, in its order (tools and tests; the app reads windows). */
  order(query: QueueQuery): string[] {
    return this.db.transaction(() => runSync(queueKeys(query), (q) => this.answer(q)))();
  }

  /** A window of the queue around a slide or a position, read in one snapshot. */
  window(query: QueueQuery, around: { sha256: string | null; index: number }, size: number): QueueWindow {
    return this.db.transaction(() => runSync(queueWindow(query, around, size), (q) => this.answer(q)))();
  }

  private answer(q: WindowQuery): unknown {
    if (q.q === 'tallies') return q.kind === 'slides' ? this.q.slideTallies.all() : q.model === null ? this.q.allRankTallies.all() : this.q.rankTallies.all(`${q.model}\u001f`, `${q.model}\u0020`);
    const params: unknown[] = [];
    const p = (v: unknown) => (params.push(typeof v === 'boolean' ? Number(v) : v === Infinity ? -1 : v), '?');
    switch (q.q) {
      case 'keys':
        return this.statement(armKeysSql(q.arm, p, SQLITE, q))
          .pluck()
          .all(...params);
      case 'keyOf':
        return (
          this.statement(armKeyOfSql(q.arm, p, SQLITE, q.sha256))
            .raw()
            .get(...params) ?? null
        );
      case 'around':
        return this.statement(armKeysAroundSql(q.arm, p, SQLITE, q.key, q.dir, q.limit))
          .pluck()
          .all(...params);
      case 'countBefore':
        return this.statement(armCountBeforeSql(q.arm, p, SQLITE, q.key))
          .pluck()
          .get(...params);
    }
  }

  /** A prepared statement per query text: the texts are few (the arms' shapes), their values parameters. */
  private statement(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) this.statements.set(sql, (stmt = this.db.prepare(sql)));
    return stmt;
  }

  /** The rows of the given slides (a page of the queue); `openBy` is left for the caller, who knows the leases. */
  rows(sha256s: string[], modelId: string | null): QueueRow[] {
    return sha256s.flatMap((sha) => {
      const s = this.q.row.get({ sha, model: modelId });
      if (!s) return [];
      const p = s.pid === null ? null : predictionOf(this.q.prediction.get(s.pid)!);
      return [queueRowOf({ sha256: s.sha256, path: s.path, addedAt: s.added_at, label: s.label }, p)];
    });
  }

  predictionsOf(sha256: string): Prediction[] {
    return this.q.predictions.all(sha256).map(predictionOf);
  }

  unpredicted(modelId: string, limit: number): Slide[] {
    const keys = this.db.transaction(() => runSync(unrankedToReview(modelId, limit), (q) => this.answer(q)))();
    return keys.flatMap((sha) => {
      const r = this.q.slide.get(sha);
      return r ? [slideOf(r)] : [];
    });
  }

  labelled(): LabelledSlide[] {
    return this.q.labelled.all().map((r): { slide: Slide; decision: Decision } => ({
      slide: { sha256: r.sha256, path: r.slide_path, width: r.width, height: r.height, addedAt: r.added_at },
      decision: decisionOfRow(r),
    }));
  }

  /** The rank rows and tallies against a count of the tables, in one snapshot (see SlideStore.queueCheck). */
  check(): string[] {
    return this.db.transaction(() => {
      const kept = this.db.prepare<[], { kind: string; key: string; n: number }>('SELECT kind, key, n FROM tallies').all();
      const counted = (this.db.prepare(TALLIES_EXPECTED).raw().all() as Array<[string, string, number]>).map(([kind, key, n]) => ({ kind, key, n }));
      const RANKS = 'SELECT model_id, sha256, pid, label, calm, margin, gone, labelled, added_at, path FROM ranks';
      const count = (sql: string) => this.db.prepare(`SELECT COUNT(*) FROM (${sql})`).pluck().get() as number;
      return rankProblems(count(`${RANKS_EXPECTED} EXCEPT ${RANKS}`), count(`${RANKS} EXCEPT ${RANKS_EXPECTED}`)).concat(tallyProblems(kept, counted));
    })();
  }

  summary(): StoreSummary {
    return this.db.transaction(() => summaryOfTallies(this.q.tallies.all(), this.q.lastSeq.get()?.n ?? 0))();
  }
}

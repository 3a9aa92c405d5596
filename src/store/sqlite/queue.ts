// The queue and the counts, in SQL: sorted and filtered by the database (on the indexes of slides and
// predictions), a page of rows fetched by their keys, and the status bar's numbers from COUNT queries.
import type { Decision, FileState, Prediction, Slide } from '../schema.js';
import { summaryOf, type StoreSummary } from '../summary.js';
import type { LabelledSlide, QueueQuery, QueueRow } from '../types.js';
import type { Db } from './connection.js';
import { decisionOfRow, predictionOf, queueRowOf, slideOf, type JournalRow, type PredictionRow, type SlideRow } from '../rows.js';

/** The prediction that ranks a slide: the model in use's latest, else the slide's latest. */
const PICK = `COALESCE(
  (SELECT id FROM predictions p WHERE p.sha256 = s.sha256 AND p.model_id = @model ORDER BY id DESC LIMIT 1),
  (SELECT id FROM predictions p WHERE p.sha256 = s.sha256 ORDER BY id DESC LIMIT 1))`;

const STATE_WHERE: Record<QueueQuery['state'], string> = { all: '', rejected: '', 'to review': 'AND s.label IS NULL', labelled: 'AND s.label IS NOT NULL' };

export class QueueQueries {
  private readonly q;
  private readonly orders = new Map<string, ReturnType<Db['prepare']>>();

  constructor(private readonly db: Db) {
    this.q = {
      row: db.prepare<{ sha: string; model: string | null }, SlideRow & { label: string | null; pid: number | null }>(`SELECT s.*, ${PICK} AS pid FROM slides s WHERE s.sha256 = @sha`),
      prediction: db.prepare<[number], PredictionRow>('SELECT * FROM predictions WHERE id = ?'),
      predictions: db.prepare<[string], PredictionRow>('SELECT * FROM predictions WHERE sha256 = ? ORDER BY id'),
      unpredicted: db.prepare<{ model: string; limit: number }, SlideRow>(
        `SELECT * FROM slides s WHERE s.gone = 0 AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.sha256 = s.sha256 AND p.model_id = @model)
           AND NOT (s.label IS NOT NULL AND EXISTS (SELECT 1 FROM predictions p WHERE p.sha256 = s.sha256)) ORDER BY s.rowid LIMIT @limit`,
      ),
      labelled: db.prepare<[], SlideRow & JournalRow & { slide_path: string }>(
        'SELECT j.*, s.path AS slide_path, s.width, s.height, s.added_at FROM slides s JOIN journal j ON j.seq = s.label_seq ORDER BY s.rowid',
      ),
      fileStates: db.prepare<[], { state: FileState; n: number }>('SELECT state, COUNT(*) AS n FROM files GROUP BY state'),
      rejections: db.prepare<[], { code: string; n: number }>("SELECT COALESCE(code, 'error') AS code, COUNT(*) AS n FROM files WHERE state = 'rejected' GROUP BY 1"),
      slideCounts: db.prepare<[], { gone: number; labelled: number; n: number }>('SELECT gone, label IS NOT NULL AS labelled, COUNT(*) AS n FROM slides GROUP BY 1, 2'),
      byLabel: db.prepare<[], { label: string; n: number }>('SELECT label, COUNT(*) AS n FROM slides WHERE label IS NOT NULL GROUP BY label'),
      lastSeq: db.prepare<[], { n: number | null }>('SELECT MAX(seq) AS n FROM journal'),
    };
  }

  /** The keys of the queue, in its order: the slides still in the folder, filtered and sorted. */
  order(query: QueueQuery): string[] {
    const sql = this.orderSql(query);
    let stmt = this.orders.get(sql);
    if (!stmt) this.orders.set(sql, (stmt = this.db.prepare(sql).pluck()));
    return stmt.all({ model: query.modelId, label: query.label }) as string[];
  }

  private orderSql(query: QueueQuery): string {
    const label = query.label === null ? '' : 'AND p.label = @label';
    const sort = query.sort === 'arrival' ? 's.added_at, s.path' : 'COALESCE(p.unusual, 0) DESC, COALESCE(p.margin, 2), s.added_at, s.path';
    // Arrival order with no label filter needs no prediction: the index on (gone, label, added_at, path) serves it.
    if (query.sort === 'arrival' && query.label === null) return `SELECT s.sha256 FROM slides s WHERE s.gone = 0 ${STATE_WHERE[query.state]} ORDER BY ${sort}`;
    return `SELECT s.sha256 FROM (SELECT s.*, ${PICK} AS pid FROM slides s WHERE s.gone = 0 ${STATE_WHERE[query.state]}) s
            LEFT JOIN predictions p ON p.id = s.pid WHERE 1 ${label} ORDER BY ${sort}`;
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
    return this.q.unpredicted.all({ model: modelId, limit }).map(slideOf);
  }

  labelled(): LabelledSlide[] {
    return this.q.labelled.all().map((r): { slide: Slide; decision: Decision } => ({
      slide: { sha256: r.sha256, path: r.slide_path, width: r.width, height: r.height, addedAt: r.added_at },
      decision: decisionOfRow(r),
    }));
  }

  summary(): StoreSummary {
    const q = this.q;
    return summaryOf({ fileStates: q.fileStates.all(), rejections: q.rejections.all(), slideCounts: q.slideCounts.all(), byLabel: q.byLabel.all(), journalEntries: q.lastSeq.get()?.n ?? 0 });
  }
}

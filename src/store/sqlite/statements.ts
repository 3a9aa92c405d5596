// The embedded store's smaller statements: single records, and the whole-store copy (dump).
import type { FileEntry, Prediction, StoreData, Decision } from '../schema.js';
import { bareRecord, STORE_VERSION } from '../schema.js';
import type { Db } from './connection.js';
import { fileOf, fileParams, slideOf, type FileRow, type SlideRow } from '../rows.js';

export class Statements {
  readonly presentFiles;
  readonly rejected;
  readonly slide;
  readonly addPrediction;
  readonly latestPrediction;
  readonly setExplanations;
  readonly putSlide;
  readonly markAllGone;
  readonly setAside;
  private readonly insertFile;
  private readonly allFiles;
  private readonly allSlides;

  constructor(db: Db) {
    this.presentFiles = db.prepare<[], string>("SELECT path FROM files WHERE state != 'gone'").pluck();
    this.rejected = db.prepare<[number], FileRow>("SELECT * FROM files WHERE state = 'rejected' ORDER BY path LIMIT ?");
    this.slide = db.prepare<[string], SlideRow>('SELECT * FROM slides WHERE sha256 = ?');
    this.addPrediction = db.prepare(
      `INSERT INTO predictions (sha256, model_id, label, probabilities, at, explanations, ood, margin, unusual)
       VALUES (@sha256, @model_id, @label, @probabilities, @at, @explanations, @ood, @margin, @unusual)`,
    );
    this.latestPrediction = db.prepare<[string, string], { id: number; explanations: string }>('SELECT id, explanations FROM predictions WHERE sha256 = ? AND model_id = ? ORDER BY id DESC LIMIT 1');
    this.setExplanations = db.prepare('UPDATE predictions SET explanations = ? WHERE id = ?');
    this.putSlide = db.prepare('INSERT INTO slides (sha256, path, width, height, added_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET path = excluded.path');
    this.insertFile = db.prepare(
      // An upsert, not INSERT OR REPLACE: a replaced row fires no delete trigger, and the tallies would drift.
      `INSERT INTO files (path, state, sha256, duplicate_of, code, reason, size, mtime_ms, seen_at)
       VALUES (@path, @state, @sha256, @duplicate_of, @code, @reason, @size, @mtime_ms, @seen_at)
       ON CONFLICT (path) DO UPDATE SET state = excluded.state, sha256 = excluded.sha256, duplicate_of = excluded.duplicate_of, code = excluded.code,
         reason = excluded.reason, size = excluded.size, mtime_ms = excluded.mtime_ms, seen_at = excluded.seen_at`,
    );
    this.markAllGone = db.prepare(
      // Only the slides whose flag changes are rewritten.
      `UPDATE slides SET gone = NOT gone WHERE gone <> (EXISTS (SELECT 1 FROM files f WHERE f.path = slides.path)
         AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = slides.sha256 AND f.state NOT IN ('gone', 'rejected')))`,
    );
    this.setAside = db.prepare('INSERT INTO set_aside (at, source, what, bytes) VALUES (?, ?, ?, ?)');
    this.allFiles = db.prepare<[], FileRow>('SELECT * FROM files ORDER BY rowid');
    this.allSlides = db.prepare<[], SlideRow>('SELECT * FROM slides ORDER BY rowid');
  }

  putFile(f: FileEntry): void {
    this.insertFile.run(fileParams(f));
  }

  /** The whole store in the JSON store's shape (call inside a read transaction, for one snapshot). */
  dump(head: { seq: number; hash: string }, decisionsOf: (sha: string) => Decision[], predictionsOf: (sha: string) => Prediction[]): StoreData {
    const data: StoreData = { schemaVersion: STORE_VERSION, files: bareRecord(), slides: bareRecord(), predictions: bareRecord(), decisions: bareRecord(), journalHead: head };
    for (const r of this.allFiles.iterate()) data.files[r.path] = fileOf(r);
    for (const r of this.allSlides.iterate()) {
      data.slides[r.sha256] = slideOf(r);
      const predictions = predictionsOf(r.sha256);
      if (predictions.length) data.predictions[r.sha256] = predictions;
      const decisions = decisionsOf(r.sha256);
      if (decisions.length) data.decisions[r.sha256] = decisions;
    }
    return data;
  }
}

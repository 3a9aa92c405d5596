// The embedded store's answers to the file-recording steps (../steps/files.ts).
import type { FileEntry } from '../schema.js';
import type { FileQuery } from '../steps/files.js';
import type { Db } from './connection.js';
import { fileOf, fileParams, slideOf, type FileRow, type SlideRow } from '../rows.js';

export class FileRecords {
  private readonly q;

  constructor(db: Db) {
    this.q = {
      file: db.prepare<[string], FileRow>('SELECT * FROM files WHERE path = ?'),
      putFile: db.prepare(
        `INSERT INTO files (path, state, sha256, duplicate_of, code, reason, size, mtime_ms, seen_at)
         VALUES (@path, @state, @sha256, @duplicate_of, @code, @reason, @size, @mtime_ms, @seen_at)
         ON CONFLICT (path) DO UPDATE SET state = excluded.state, sha256 = excluded.sha256, duplicate_of = excluded.duplicate_of,
           code = excluded.code, reason = excluded.reason, size = excluded.size, mtime_ms = excluded.mtime_ms, seen_at = excluded.seen_at`,
      ),
      slide: db.prepare<[string], SlideRow>('SELECT * FROM slides WHERE sha256 = ?'),
      addSlide: db.prepare('INSERT INTO slides (sha256, path, width, height, added_at) VALUES (?, ?, ?, ?, ?)'),
      moveSlide: db.prepare('UPDATE slides SET path = ? WHERE sha256 = ?'),
      heir: db.prepare<[string], FileRow>("SELECT * FROM files WHERE sha256 = ? AND state = 'duplicate' ORDER BY rowid LIMIT 1"),
      passOn: db.prepare('UPDATE files SET duplicate_of = ? WHERE duplicate_of = ?'),
      markGone: db.prepare(
        `UPDATE slides SET gone = (EXISTS (SELECT 1 FROM files f WHERE f.path = slides.path)
           AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = slides.sha256 AND f.state NOT IN ('gone', 'rejected')))
         WHERE sha256 = ?`,
      ),
    };
  }

  get(rel: string): FileEntry | undefined {
    const row = this.q.file.get(rel);
    return row && fileOf(row);
  }

  /** Answers one step's query (inside the caller's transaction). */
  answer(query: FileQuery): unknown {
    const q = this.q;
    switch (query.q) {
      case 'file':
        return this.get(query.path);
      case 'putFile':
        return q.putFile.run(fileParams(query.entry));
      case 'slide': {
        const row = q.slide.get(query.sha256);
        return row && slideOf(row);
      }
      case 'addSlide':
        return q.addSlide.run(query.slide.sha256, query.slide.path, query.slide.width, query.slide.height, query.slide.addedAt);
      case 'moveSlide':
        return q.moveSlide.run(query.path, query.sha256);
      case 'heir': {
        const row = q.heir.get(query.sha256);
        return row && fileOf(row);
      }
      case 'passOn':
        return q.passOn.run(query.to, query.from);
      case 'markGone':
        return q.markGone.run(query.sha256);
    }
  }
}

// One incoming file → exactly one state (see ingest/ingest.ts): the records a batch of the watcher's
// results makes, written in one transaction. A slide whose file left the folder keeps its labels and
// history; when a duplicate of it is still there, that file carries the slide on.
import type { Examined } from '../../ingest/ingest.js';
import type { FileEntry } from '../schema.js';
import type { FileOp } from '../types.js';
import type { Db } from './connection.js';
import { fileOf, fileParams, type FileRow, type SlideRow } from './rows.js';

export class FileRecords {
  private readonly q;

  constructor(private readonly db: Db) {
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
      // Gone: its file entry exists and no file in the folder holds its content any more.
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

  /** Records a batch (call inside a transaction); returns the entries written. */
  record(ops: FileOp[]): FileEntry[] {
    const touched = new Set<string>();
    const entries: FileEntry[] = [];
    for (const op of ops) {
      const before = this.q.file.get('gone' in op ? op.gone : op.examined.rel);
      if (before?.sha256) touched.add(before.sha256);
      const entry = 'gone' in op ? this.gone(op.gone) : this.examined(op.examined);
      if (!entry) continue;
      if (entry.sha256) touched.add(entry.sha256);
      entries.push(entry);
    }
    for (const sha of touched) this.q.markGone.run(sha);
    return entries;
  }

  private put(entry: FileEntry): FileEntry {
    this.q.putFile.run(fileParams(entry));
    return entry;
  }

  private examined(x: Examined): FileEntry {
    const base = { path: x.rel, size: x.size, mtimeMs: x.mtimeMs, seenAt: x.seenAt, duplicateOf: null, code: null, reason: null, sha256: null };
    if (x.result.kind === 'reject') return this.put({ ...base, state: 'rejected', code: x.result.code, reason: x.result.reason });
    if (x.result.kind === 'changed') return this.put({ ...base, state: 'changed', code: 'changed', reason: x.result.reason });
    const { sha256, width, height } = x.result;
    const existing = this.q.slide.get(sha256);
    const holder = existing && existing.path !== x.rel ? this.q.file.get(existing.path) : undefined;
    if (existing && holder?.sha256 === sha256 && holder.state !== 'gone') return this.put({ ...base, sha256, state: 'duplicate', duplicateOf: existing.path });
    if (existing)
      this.q.moveSlide.run(x.rel, sha256); // back, or its first file gone: the slide is at this path now
    else this.q.addSlide.run(sha256, x.rel, width, height, x.seenAt);
    return this.put({ ...base, sha256, state: 'queued' });
  }

  private gone(rel: string, at = new Date().toISOString()): FileEntry | null {
    const row = this.q.file.get(rel);
    if (!row || row.state === 'gone') return null;
    const entry = this.put({ ...fileOf(row), state: 'gone', seenAt: at, duplicateOf: null });
    const slide = entry.sha256 ? this.q.slide.get(entry.sha256) : undefined;
    if (!slide || slide.path !== rel) return entry;
    const heir = this.q.heir.get(slide.sha256);
    if (!heir) return entry;
    this.q.moveSlide.run(heir.path, slide.sha256);
    this.q.passOn.run(heir.path, rel);
    this.put({ ...fileOf(heir), state: 'queued', duplicateOf: null });
    return entry;
  }
}

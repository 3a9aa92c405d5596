// One incoming file → exactly one state (see ingest/ingest.ts): the records a batch of the watcher's
// results makes, inside one transaction. A slide whose file left the folder keeps its labels and history;
// when a duplicate of it is still there, that file carries the slide on.
import type { Examined } from '../../ingest/ingest.js';
import type { FileEntry, Slide } from '../schema.js';
import type { FileOp } from '../types.js';
import type { Steps } from './run.js';

export type FileQuery =
  | { q: 'file'; path: string }
  | { q: 'putFile'; entry: FileEntry }
  | { q: 'slide'; sha256: string }
  | { q: 'addSlide'; slide: Slide }
  | { q: 'moveSlide'; sha256: string; path: string }
  /** The first duplicate file of the slide, in the order files were recorded. */
  | { q: 'heir'; sha256: string }
  /** Files that named `from` as the one they duplicate now name `to`. */
  | { q: 'passOn'; from: string; to: string }
  /** Sets the slide's gone flag: its file entry exists and no file in the folder holds its content. */
  | { q: 'markGone'; sha256: string };

function* ask<T>(query: FileQuery): Steps<FileQuery, T> {
  return (yield query) as T;
}

export function* recordFiles(ops: FileOp[]): Steps<FileQuery, FileEntry[]> {
  const touched = new Set<string>();
  const entries: FileEntry[] = [];
  for (const op of ops) {
    const before = yield* ask<FileEntry | undefined>({ q: 'file', path: 'gone' in op ? op.gone : op.examined.rel });
    if (before?.sha256) touched.add(before.sha256);
    const entry = 'gone' in op ? yield* recordGone(op.gone) : yield* recordExamined(op.examined);
    if (!entry) continue;
    if (entry.sha256) touched.add(entry.sha256);
    entries.push(entry);
  }
  for (const sha256 of touched) yield { q: 'markGone', sha256 };
  return entries;
}

function* put(entry: FileEntry): Steps<FileQuery, FileEntry> {
  yield { q: 'putFile', entry };
  return entry;
}

function* recordExamined(x: Examined): Steps<FileQuery, FileEntry> {
  const base = { path: x.rel, size: x.size, mtimeMs: x.mtimeMs, seenAt: x.seenAt, duplicateOf: null, code: null, reason: null, sha256: null };
  if (x.result.kind === 'reject') return yield* put({ ...base, state: 'rejected', code: x.result.code, reason: x.result.reason });
  if (x.result.kind === 'changed') return yield* put({ ...base, state: 'changed', code: 'changed', reason: x.result.reason });
  const { sha256, width, height } = x.result;
  const existing = yield* ask<Slide | undefined>({ q: 'slide', sha256 });
  const holder = existing && existing.path !== x.rel ? yield* ask<FileEntry | undefined>({ q: 'file', path: existing.path }) : undefined;
  if (existing && holder?.sha256 === sha256 && holder.state !== 'gone') return yield* put({ ...base, sha256, state: 'duplicate', duplicateOf: existing.path });
  // Back, or its first file gone: the slide is at this path now.
  if (existing) yield { q: 'moveSlide', sha256, path: x.rel };
  else yield { q: 'addSlide', slide: { sha256, path: x.rel, width, height, addedAt: x.seenAt } };
  return yield* put({ ...base, sha256, state: 'queued' });
}

function* recordGone(rel: string, at = new Date().toISOString()): Steps<FileQuery, FileEntry | null> {
  const row = yield* ask<FileEntry | undefined>({ q: 'file', path: rel });
  if (!row || row.state === 'gone') return null;
  const entry = yield* put({ ...row, state: 'gone', seenAt: at, duplicateOf: null });
  const slide = entry.sha256 ? yield* ask<Slide | undefined>({ q: 'slide', sha256: entry.sha256 }) : undefined;
  if (!slide || slide.path !== rel) return entry;
  const heir = yield* ask<FileEntry | undefined>({ q: 'heir', sha256: slide.sha256 });
  if (!heir) return entry;
  yield { q: 'moveSlide', sha256: slide.sha256, path: heir.path };
  yield { q: 'passOn', from: rel, to: heir.path };
  yield* put({ ...heir, state: 'queued', duplicateOf: null });
  return entry;
}

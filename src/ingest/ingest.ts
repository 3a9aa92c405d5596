// One incoming file → exactly one state in the store: queued, duplicate (same sha256 as a known slide)
// or rejected with its reason. Incoming files are only ever read. Examining a file (reading, hashing,
// decoding) needs no lock; recording is done for many files in one store update.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FileEntry, StoreData } from '../store/schema.js';
import { decodeRgb, ImageRejected, MIN_SIDE, readImageFile, type ImageLimits } from './image.js';

/** Hidden and temporary names: never slides, never recorded. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.startsWith('~') || /\.(part|crdownload|tmp|partial|download)$/i.test(name);
}

export interface Examined {
  rel: string;
  size: number;
  mtimeMs: number;
  seenAt: string;
  result: { kind: 'image'; sha256: string; width: number; height: number } | { kind: 'reject'; code: string; reason: string };
}

export type ExamineOutcome = { kind: 'examined'; examined: Examined } | { kind: 'ignored'; reason: string } | { kind: 'unchanged' } | { kind: 'retry'; reason: string };

function inside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Reads and checks one file. `known` is the store's entry for it, if any (same size and mtime: skipped). */
export async function examineFile(root: string, file: string, limits: ImageLimits, known: FileEntry | undefined): Promise<ExamineOutcome> {
  const rel = path.relative(root, file);
  if (rel.split(path.sep).some(isIgnoredName)) return { kind: 'ignored', reason: 'hidden or temporary file' };
  let lst;
  try {
    lst = await fs.lstat(file);
  } catch {
    return { kind: 'ignored', reason: 'gone before it could be read' };
  }
  if (known && known.size === lst.size && known.mtimeMs === lst.mtimeMs) return { kind: 'unchanged' };
  const base = { rel, size: lst.size, mtimeMs: lst.mtimeMs, seenAt: new Date().toISOString() };
  const reject = (code: string, reason: string): ExamineOutcome => ({ kind: 'examined', examined: { ...base, result: { kind: 'reject', code, reason } } });

  if (lst.isSymbolicLink()) {
    const target = await fs.realpath(file).catch(() => null);
    const realRoot = await fs.realpath(root).catch(() => root);
    if (!target || !inside(realRoot, target)) return reject('outside-link', `a symbolic link to ${target ?? 'a missing file'}, outside the incoming folder: ignored`);
  }
  try {
    const read = await readImageFile(file, limits);
    const rgb = await decodeRgb(read, limits);
    if (rgb.width < MIN_SIDE || rgb.height < MIN_SIDE) throw new ImageRejected('too-small', `the image is only ${rgb.width}×${rgb.height} pixels; a slide needs at least ${MIN_SIDE}×${MIN_SIDE}`);
    return { kind: 'examined', examined: { ...base, result: { kind: 'image', sha256: read.sha256, width: rgb.width, height: rgb.height } } };
  } catch (err) {
    if (err instanceof ImageRejected) {
      // A file still being written is read again when it settles.
      if (err.code === 'changed') return { kind: 'retry', reason: err.message };
      return reject(err.code, err.message);
    }
    return reject('error', (err as Error).message);
  }
}

/** Records examined files in the store data (inside one store update); returns their entries. */
export function recordExamined(data: StoreData, batch: Examined[]): FileEntry[] {
  return batch.map((x) => {
    const base = { path: x.rel, size: x.size, mtimeMs: x.mtimeMs, seenAt: x.seenAt, duplicateOf: null, code: null, reason: null, sha256: null };
    let entry: FileEntry;
    if (x.result.kind === 'reject') {
      entry = { ...base, state: 'rejected', code: x.result.code, reason: x.result.reason };
    } else {
      const { sha256, width, height } = x.result;
      const existing = data.slides[sha256];
      if (existing && existing.path !== x.rel && data.files[existing.path]?.sha256 === sha256) {
        entry = { ...base, sha256, state: 'duplicate', duplicateOf: existing.path };
      } else {
        data.slides[sha256] ??= { sha256, path: x.rel, width, height, addedAt: x.seenAt };
        entry = { ...base, sha256, state: 'queued' };
      }
    }
    data.files[x.rel] = entry;
    return entry;
  });
}

// One incoming file → exactly one state in the store: queued, duplicate (same sha256 as a known slide),
// rejected with its reason, changed (still being written: read again later) or gone (removed from the
// folder). Incoming files are only ever read. Examining a file (reading, hashing, decoding) needs no
// lock; recording is done for many files in one store transaction (store/sqlite/files.ts).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FileEntry } from '../store/schema.js';
import { decodeRgb, ImageRejected, MIN_SIDE, readImageFile, type ImageFile, type ImageLimits, type RejectionCode } from './image.js';
import { onDisk } from './byte-names.js';

/** Hidden and temporary names: never slides, never recorded. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.startsWith('~') || /\.(part|crdownload|tmp|partial|download)$/i.test(name);
}

/** A file modified less than this long ago may still be being written (default of images.settleSeconds). */
export const SETTLE_SECONDS = 2;

/** Rejections that a file still being written gives: while it is recent, they mean "not yet". */
const MAYBE_INCOMPLETE = new Set<RejectionCode>(['empty', 'undecodable', 'content-mismatch', 'too-small', 'changed']);

export interface Examined {
  rel: string;
  size: number;
  mtimeMs: number;
  seenAt: string;
  result: { kind: 'image'; sha256: string; width: number; height: number } | { kind: 'reject'; code: string; reason: string } | { kind: 'changed'; reason: string };
}

export type ExamineOutcome =
  | { kind: 'examined'; examined: Examined; image?: ImageFile }
  | { kind: 'ignored'; reason: string }
  | { kind: 'unchanged' }
  /** Still being written: recorded as `changed`, to be read again after `retryInMs`. */
  | { kind: 'retry'; examined: Examined; retryInMs: number };

function inside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Final states are not read again until the file's size or modification time changes. */
function isFinal(entry: FileEntry | undefined, size: number, mtimeMs: number): boolean {
  return !!entry && (entry.state === 'queued' || entry.state === 'duplicate' || entry.state === 'rejected') && entry.size === size && entry.mtimeMs === mtimeMs;
}

const LINK_ERRORS: Record<string, string> = { ELOOP: 'a loop of symbolic links', ENOENT: 'a symbolic link to a missing file' };

/** A link must resolve, and inside the incoming folder. */
async function checkLink(root: string, file: string): Promise<{ code: RejectionCode | 'outside-link'; reason: string } | null> {
  let target: string;
  try {
    target = await fs.realpath(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { code: 'unreadable', reason: `cannot read: ${code}${LINK_ERRORS[code] ? ` (${LINK_ERRORS[code]})` : ''}` };
  }
  const realRoot = await fs.realpath(root).catch(() => root);
  return inside(realRoot, target) ? null : { code: 'outside-link', reason: `a symbolic link to ${target}, outside the incoming folder: ignored` };
}

/**
 * Reads and checks one file. `known` is the store's entry for it (same size and mtime and a final state:
 * skipped). A file modified within `limits.settleSeconds` that does not read as a whole image yet is
 * `changed`, never a final rejection.
 */
export async function examineFile(root: string, file: string, limits: ImageLimits, known: FileEntry | undefined): Promise<ExamineOutcome> {
  const rel = path.relative(root, file);
  if (rel.split(path.sep).some(isIgnoredName)) return { kind: 'ignored', reason: 'hidden or temporary file' };
  let lst;
  try {
    lst = await fs.lstat(onDisk(file));
  } catch {
    return { kind: 'ignored', reason: 'gone before it could be read' };
  }
  if (isFinal(known, lst.size, lst.mtimeMs)) return { kind: 'unchanged' };
  const base = { rel, size: lst.size, mtimeMs: lst.mtimeMs, seenAt: new Date().toISOString() };
  const reject = (code: string, reason: string): ExamineOutcome => ({ kind: 'examined', examined: { ...base, result: { kind: 'reject', code, reason } } });

  if (lst.isSymbolicLink()) {
    const bad = await checkLink(root, file);
    if (bad) return reject(bad.code, bad.reason);
  }
  try {
    const read = await readImageFile(file, limits);
    const rgb = await decodeRgb(read, limits);
    if (rgb.width < MIN_SIDE || rgb.height < MIN_SIDE) throw new ImageRejected('too-small', `the image is only ${rgb.width}×${rgb.height} pixels; a slide needs at least ${MIN_SIDE}×${MIN_SIDE}`);
    return { kind: 'examined', examined: { ...base, result: { kind: 'image', sha256: read.sha256, width: rgb.width, height: rgb.height } }, image: read };
  } catch (err) {
    if (!(err instanceof ImageRejected)) return reject('error', (err as Error).message);
    const settleMs = (limits.settleSeconds ?? SETTLE_SECONDS) * 1000;
    const quietFor = Date.now() - Math.max(lst.mtimeMs, (await fs.stat(onDisk(file)).catch(() => lst)).mtimeMs);
    if (err.code === 'changed' || (MAYBE_INCOMPLETE.has(err.code) && quietFor < settleMs)) {
      const reason = `still being written (${err.message}): read again once it has not changed for ${settleMs / 1000} s`;
      return { kind: 'retry', examined: { ...base, result: { kind: 'changed', reason } }, retryInMs: Math.max(250, settleMs - quietFor) };
    }
    return reject(err.code, err.message);
  }
}

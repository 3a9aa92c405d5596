// The audit journal: one JSON line per label decision, appended and fsynced, each entry carrying the
// hash of the one before it, so that an edited, removed or reordered entry is found by `audit verify`.
import { createHash } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs';
import fs from 'node:fs/promises';
import { FILE_MODE } from './files.js';

export interface JournalInput {
  sha256: string;
  action: 'confirm' | 'correct' | 'undo';
  predicted: string | null;
  probabilities: Record<string, number> | null;
  label: string | null;
  previousLabel: string | null;
  technician: string;
  displayName: string | null;
  modelId: string | null;
  note: string;
}

export interface JournalEntry extends JournalInput {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

/** JSON with object keys sorted at every depth, so a hash does not depend on how an object was built. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function entryHash(entry: Omit<JournalEntry, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(entry)).digest('hex');
}

export async function readJournal(file: string): Promise<{ entries: JournalEntry[]; badLines: number[] }> {
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const entries: JournalEntry[] = [];
  const badLines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch {
      badLines.push(i + 1);
    }
  });
  return { entries, badLines };
}

/** The entry after `head`, and its line. */
function entryAfter(head: { seq: number; hash: string }, input: JournalInput): { entry: JournalEntry; line: string } {
  const body = { ...input, seq: head.seq + 1, at: new Date().toISOString(), prevHash: head.hash };
  const entry: JournalEntry = { ...body, hash: entryHash(body) };
  return { entry, line: JSON.stringify(entry) + '\n' };
}

/**
 * Appends one entry after `head` (the last entry's seq and hash) and syncs it to disk; returns it with the
 * line written. Call under the journal's lock. `created`: the file may be new (its mode is then set, as
 * the umask may have taken the group's bits).
 */
export async function appendJournal(file: string, head: { seq: number; hash: string }, input: JournalInput, created = true): Promise<{ entry: JournalEntry; line: string }> {
  const { entry, line } = entryAfter(head, input);
  const h = await fs.open(file, 'a', FILE_MODE);
  try {
    if (created) await h.chmod(FILE_MODE);
    await h.appendFile(line);
    await h.sync();
  } finally {
    await h.close();
  }
  return { entry, line };
}

/** The same, at once (for the decision's fast path, which already holds the journal's lock). */
export function appendJournalSync(file: string, head: { seq: number; hash: string }, input: JournalInput, created = true): { entry: JournalEntry; line: string } {
  const { entry, line } = entryAfter(head, input);
  const fd = openSync(file, 'a', FILE_MODE);
  try {
    if (created) fchmodSync(fd, FILE_MODE);
    writeSync(fd, line);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { entry, line };
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  problems: string[];
}

/** Checks every hash and link; with `head`, also that nothing was cut off the end. */
export async function verifyJournal(file: string, head?: { seq: number; hash: string }): Promise<VerifyResult> {
  const { entries, badLines } = await readJournal(file);
  const problems = badLines.map((n) => `line ${n}: not valid JSON`);
  let prev = { seq: 0, hash: '' };
  entries.forEach((e, i) => {
    const line = i + 1;
    const { hash, ...body } = e;
    if (entryHash(body) !== hash) problems.push(`line ${line} (seq ${e.seq}): its content does not match its hash — edited`);
    if (e.seq !== prev.seq + 1) problems.push(`line ${line}: seq ${e.seq} follows ${prev.seq} — an entry was removed or reordered`);
    if (e.prevHash !== prev.hash) problems.push(`line ${line} (seq ${e.seq}): does not link to the entry before it`);
    prev = { seq: e.seq, hash };
  });
  if (head && head.seq > prev.seq) problems.push(`the store has applied entry ${head.seq} but the journal ends at ${prev.seq} — entries were cut off the end`);
  if (head && head.seq === prev.seq && head.seq > 0 && head.hash !== prev.hash) problems.push(`the journal's last entry differs from the one the store applied`);
  return { ok: problems.length === 0, entries: entries.length, problems };
}

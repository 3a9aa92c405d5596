// The audit journal's entries: each carries the hash of the one before it, so that an edited, removed or
// reordered entry is found by `audit verify`. The store keeps them in a table (sqlite/journal.ts); this is
// their JSON-lines form, which `audit export` writes and an older slidetriage's audit.jsonl holds.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';

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

/** A piece of a line a crash cut short (power cut, full disk): never acknowledged, set aside with where it was. */
export interface TornPiece {
  line: number;
  text: string;
}

export interface JournalRead {
  entries: JournalEntry[];
  badLines: number[];
  torn: TornPiece[];
  /** The closing line of an export: the head and count it was written with. */
  trailer?: ExportTrailer;
}

/** What `audit export` writes after the entries, so that lines cut off the end are found. */
export interface ExportTrailer {
  journalHead: { seq: number; hash: string };
  count: number;
}

const isTrailer = (v: unknown): v is ExportTrailer => !!v && typeof v === 'object' && 'journalHead' in v && 'count' in v;

/** A line that starts with a torn piece and goes on with a whole entry (the next append glued onto it). */
function unglue(line: string): { piece: string; entry: JournalEntry } | null {
  for (let p = line.indexOf('{', 1); p > 0; p = line.indexOf('{', p + 1)) {
    try {
      const entry = JSON.parse(line.slice(p)) as JournalEntry;
      if (entry && typeof entry === 'object' && typeof entry.hash === 'string') return { piece: line.slice(0, p), entry };
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The journal's lines as entries. A torn last line (no newline, not JSON) and a torn piece with an entry
 * glued after it are told apart from an edited line: they are set aside (`torn`), not counted as bad.
 */
export function parseJournal(text: string): JournalRead {
  const out: JournalRead = { entries: [], badLines: [], torn: [] };
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const value = JSON.parse(line) as unknown;
      if (isTrailer(value)) out.trailer = value;
      else out.entries.push(value as JournalEntry);
      return;
    } catch {
      // below
    }
    const glued = unglue(line);
    if (glued) {
      out.torn.push({ line: i + 1, text: glued.piece });
      out.entries.push(glued.entry);
    } else if (i === lines.length - 1) out.torn.push({ line: i + 1, text: line });
    else out.badLines.push(i + 1);
  });
  return out;
}

export async function readJournal(file: string): Promise<JournalRead> {
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  return parseJournal(text);
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  problems: string[];
}

/** Where an entry is, for the problems found: a file's line, or a table's seq. */
export type Where = (index: number, entry: JournalEntry) => string;
const onLine: Where = (i, e) => `line ${i + 1} (seq ${e.seq})`;
export const bySeq: Where = (_i, e) => `seq ${e.seq}`;

/**
 * Checks every hash and link; with `head`, also that nothing was cut off the end. `from`: the entry the
 * first one follows (a journal's tail, checked from a point verified before).
 */
export function verifyEntries(entries: JournalEntry[], head?: { seq: number; hash: string }, badLines: number[] = [], where: Where = onLine, from = { seq: 0, hash: '' }): VerifyResult {
  const problems = badLines.map((n) => `line ${n}: not valid JSON`);
  let prev = from;
  entries.forEach((e, i) => {
    const { hash, ...body } = e;
    if (entryHash(body) !== hash) problems.push(`${where(i, e)}: its content does not match its hash — edited`);
    if (e.seq !== prev.seq + 1) problems.push(`${where(i, e)}: follows seq ${prev.seq} — an entry was removed or reordered`);
    if (e.prevHash !== prev.hash) problems.push(`${where(i, e)}: does not link to the entry before it`);
    prev = { seq: e.seq, hash };
  });
  if (head && head.seq > prev.seq) problems.push(`the store has applied entry ${head.seq} but the journal ends at ${prev.seq} — entries were cut off the end`);
  if (head && head.seq === prev.seq && head.seq > 0 && head.hash !== prev.hash) problems.push(`the journal's last entry differs from the one the store applied`);
  return { ok: problems.length === 0, entries: entries.length, problems };
}

/**
 * An exported journal (`audit verify --file`): every hash and link, and its closing line's head and count, so
 * that lines cut off the end are found. A missing file is a problem, never an empty journal that verifies.
 */
export async function verifyExport(file: string): Promise<VerifyResult> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, entries: 0, problems: [code === 'ENOENT' ? `there is no file ${file}` : `${file} cannot be read (${code ?? (err as Error).message})`] };
  }
  const { entries, badLines, trailer } = parseJournal(text);
  const result = verifyEntries(entries, trailer?.journalHead, badLines);
  if (!trailer) result.problems.push(`it has no closing line with the head and count, so lines cut off the end cannot be found (an export of this slidetriage ends with one)`);
  else if (trailer.count !== entries.length) result.problems.push(`it holds ${entries.length} entries but was exported with ${trailer.count} — entries were removed`);
  return { ...result, ok: result.problems.length === 0 };
}

/** The journal as JSON lines, one entry per line, then the closing line: what `audit export` writes. */
export function journalLines(entries: JournalEntry[]): string {
  const last = entries.at(-1);
  const trailer: ExportTrailer = { journalHead: { seq: last?.seq ?? 0, hash: last?.hash ?? '' }, count: entries.length };
  return entries.map((e) => JSON.stringify(e) + '\n').join('') + JSON.stringify(trailer) + '\n';
}

// Verifying a journal kept in a table (either store): every row's hash and link, and the tail against what
// the store recorded of it (its head, and the highest seq a slide's label came from).
import { bySeq, verifyEntries, type JournalEntry, type VerifyResult } from './journal.js';

/** A slide's label as the store holds it, for the replay. */
export interface StoredLabel {
  sha256: string;
  label: string | null;
}

/**
 * The journal replayed against the slides' labels: each slide's label must be the label of its last journal
 * entry (`UPDATE slides SET label = 'Pro'` once passed verify and showed in status).
 */
export function replayProblems(entries: JournalEntry[], labels: StoredLabel[]): string[] {
  const replayed = new Map<string, string | null>();
  for (const e of entries) replayed.set(e.sha256, e.label);
  const problems: string[] = [];
  for (const s of labels) {
    const expected = replayed.get(s.sha256) ?? null;
    if (s.label !== expected)
      problems.push(`slide ${s.sha256.slice(0, 16)} is labelled ${JSON.stringify(s.label)} in the store but ${JSON.stringify(expected)} by its journal — changed outside the journal`);
    if (problems.length >= 20) break;
  }
  return problems;
}

/**
 * `head`: the store's recorded head, "seq:hash" (null: none yet); `labelledUpTo`: the highest label_seq of a slide;
 * `labels`: every labelled slide and every slide the journal names.
 */
export function verifyTable(entries: JournalEntry[], head: string | null, labelledUpTo: number, labels: StoredLabel[] = [], from = { seq: 0, hash: '' }): VerifyResult {
  const result = verifyEntries(entries, undefined, [], bySeq, from);
  result.problems.push(...replayProblems(entries, labels));
  const last = entries.at(-1) ?? from;
  const [headSeq, headHash] = head ? [Number(head.split(':')[0]), head.split(':')[1]] : [0, ''];
  const applied = Math.max(headSeq, labelledUpTo);
  if (applied > last.seq) result.problems.push(`the store has applied entry ${applied} but the journal ends at ${last.seq} — entries were cut off the end`);
  else if (headSeq === last.seq && headSeq > 0 && headHash !== last.hash) result.problems.push(`the journal's last entry differs from the one the store recorded`);
  return { ...result, ok: result.problems.length === 0 };
}

/** Where the journal last verified whole: the `verified_through` value of the store's meta, "seq:hash". */
export function parseMark(value: string | undefined | null): { seq: number; hash: string } {
  const m = value ? /^(\d+):([0-9a-f]{64})$/.exec(value) : null;
  return m ? { seq: Number(m[1]), hash: m[2] } : { seq: 0, hash: '' };
}

/** The entry the mark names must still be the one verified: else the journal was rewritten since. */
export function markProblems(mark: { seq: number; hash: string }, hashAtMark: string | undefined): string[] {
  if (!mark.seq || hashAtMark === mark.hash) return [];
  return [`entry ${mark.seq} is not the one the journal held when it last verified whole — the journal was rewritten`];
}

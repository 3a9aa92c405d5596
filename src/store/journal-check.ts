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
export function verifyTable(entries: JournalEntry[], head: string | null, labelledUpTo: number, labels: StoredLabel[] = []): VerifyResult {
  const result = verifyEntries(entries, undefined, [], bySeq);
  result.problems.push(...replayProblems(entries, labels));
  const last = entries.at(-1) ?? { seq: 0, hash: '' };
  const [headSeq, headHash] = head ? [Number(head.split(':')[0]), head.split(':')[1]] : [0, ''];
  const applied = Math.max(headSeq, labelledUpTo);
  if (applied > last.seq) result.problems.push(`the store has applied entry ${applied} but the journal ends at ${last.seq} — entries were cut off the end`);
  else if (headSeq === last.seq && headSeq > 0 && headHash !== last.hash) result.problems.push(`the journal's last entry differs from the one the store recorded`);
  return { ...result, ok: result.problems.length === 0 };
}

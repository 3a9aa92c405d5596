// Verifying a journal kept in a table (either store): every row's hash and link, and the tail against what
// the store recorded of it (its head, and the highest seq a slide's label came from).
import { bySeq, verifyEntries, type JournalEntry, type VerifyResult } from './journal.js';

/** `head`: the store's recorded head, "seq:hash" (null: none yet); `labelledUpTo`: the highest label_seq of a slide. */
export function verifyTable(entries: JournalEntry[], head: string | null, labelledUpTo: number): VerifyResult {
  const result = verifyEntries(entries, undefined, [], bySeq);
  const last = entries.at(-1) ?? { seq: 0, hash: '' };
  const [headSeq, headHash] = head ? [Number(head.split(':')[0]), head.split(':')[1]] : [0, ''];
  const applied = Math.max(headSeq, labelledUpTo);
  if (applied > last.seq) result.problems.push(`the store has applied entry ${applied} but the journal ends at ${last.seq} — entries were cut off the end`);
  else if (headSeq === last.seq && headSeq > 0 && headHash !== last.hash) result.problems.push(`the journal's last entry differs from the one the store recorded`);
  return { ...result, ok: result.problems.length === 0 };
}

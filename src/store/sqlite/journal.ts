// The audit journal as a table: append-only (triggers refuse UPDATE and DELETE), each row carrying the
// hash of the one before it, exactly as the JSON-lines journal did, so that `audit export` writes lines
// that `audit verify --file` checks outside the database. The store's head (meta) and each slide's
// label_seq say how far the journal went, so that rows cut off the end are found too.
import { entryHash, type JournalEntry, type JournalInput, type VerifyResult } from '../journal.js';
import { markProblems, parseMark, verifyTable, type StoredLabel } from '../journal-check.js';
import type { Decision } from '../schema.js';
import type { Db } from './connection.js';
import { decisionOfRow, entryOf, journalParams, type JournalRow } from '../rows.js';

type Head = { seq: number; hash: string };

export class JournalTable {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      last: db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1'),
      ofSlide: db.prepare<[string], JournalRow>('SELECT * FROM journal WHERE sha256 = ? ORDER BY seq'),
      all: db.prepare<[], JournalRow>('SELECT * FROM journal ORDER BY seq'),
      insert: db.prepare(
        `INSERT INTO journal (seq, sha256, action, label, previous_label, predicted, probabilities, technician, display_name, model_id, note, at, prev_hash, hash)
         VALUES (@seq, @sha256, @action, @label, @previous_label, @predicted, @probabilities, @technician, @display_name, @model_id, @note, @at, @prev_hash, @hash)`,
      ),
      setLabel: db.prepare('UPDATE slides SET label = ?, label_seq = ? WHERE sha256 = ?'),
      setHead: db.prepare("INSERT INTO meta (key, value) VALUES ('journal_head', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      head: db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'journal_head'"),
      maxLabelSeq: db.prepare<[], { n: number | null }>('SELECT MAX(label_seq) AS n FROM slides'),
      labels: db.prepare<[], StoredLabel>('SELECT sha256, label FROM slides WHERE label IS NOT NULL OR sha256 IN (SELECT sha256 FROM journal)'),
      after: db.prepare<[number], JournalRow>('SELECT * FROM journal WHERE seq > ? ORDER BY seq'),
      labelsAfter: db.prepare<[number], StoredLabel>('SELECT sha256, label FROM slides WHERE sha256 IN (SELECT sha256 FROM journal WHERE seq > ?)'),
      hashAt: db.prepare<[number], string>('SELECT hash FROM journal WHERE seq = ?').pluck(),
      mark: db.prepare<[], string>("SELECT value FROM meta WHERE key = 'verified_through'").pluck(),
      setMark: db.prepare("INSERT INTO meta (key, value) VALUES ('verified_through', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    };
  }

  head(): Head {
    return this.q.last.get() ?? { seq: 0, hash: '' };
  }

  decisionsOf(sha256: string): Decision[] {
    return this.q.ofSlide.all(sha256).map(decisionOfRow);
  }

  entries(): JournalEntry[] {
    return this.q.all.all().map(entryOf);
  }

  /** Appends the entry after the head and sets the slide's label (inside the caller's transaction). */
  append(input: JournalInput): JournalEntry {
    const head = this.head();
    const body = { ...input, seq: head.seq + 1, at: new Date().toISOString(), prevHash: head.hash };
    const entry: JournalEntry = { ...body, hash: entryHash(body) };
    this.insert(entry);
    return entry;
  }

  /** Inserts an entry as made elsewhere (a migration), keeping its seq, time and hashes. */
  insert(entry: JournalEntry): void {
    this.insertMany([entry]);
  }

  /** Inserts entries as made elsewhere, in order; each slide takes its last entry's label, the head the last entry. */
  insertMany(entries: JournalEntry[]): void {
    if (!entries.length) return;
    for (const entry of entries) this.q.insert.run(journalParams(entry));
    const last = new Map(entries.map((e) => [e.sha256, e]));
    for (const e of last.values()) this.q.setLabel.run(e.label, e.label === null ? null : e.seq, e.sha256);
    const head = entries.at(-1)!;
    this.q.setHead.run(`${head.seq}:${head.hash}`);
  }

  /** Checks every row's hash and link, that nothing was cut off the end, and the slides' labels against it (../journal-check.ts). */
  verify(): VerifyResult {
    const recorded = this.q.head.get()?.value ?? null;
    return verifyTable(this.entries(), recorded, this.q.maxLabelSeq.get()?.n ?? 0, this.q.labels.all());
  }

  /** The tail since the journal last verified whole (its mark), and the slides it names: cheap at any size. */
  verifyRecent(): VerifyResult & { from: Head } {
    const from = parseMark(this.q.mark.get());
    const recorded = this.q.head.get()?.value ?? null;
    const result = verifyTable(this.q.after.all(from.seq).map(entryOf), recorded, this.q.maxLabelSeq.get()?.n ?? 0, this.q.labelsAfter.all(from.seq), from);
    result.problems.unshift(...markProblems(from, this.q.hashAt.get(from.seq)));
    return { ...result, ok: result.problems.length === 0, from };
  }

  /** Records that the journal verified whole up to its head (inside the caller's write). */
  markVerified(head: Head): void {
    if (head.seq) this.q.setMark.run(`${head.seq}:${head.hash}`);
  }
}

// The PostgreSQL store's answers to the steps (../steps/): the same queries as the SQLite store's, on a
// transaction's client.
import type pg from 'pg';
import { entryHash, type JournalEntry } from '../journal.js';
import { decisionOfRow, fileOf, fileParams, journalParams, slideOf, type JournalRow } from '../rows.js';
import type { DecisionQuery } from '../steps/decisions.js';
import type { FileQuery } from '../steps/files.js';
import { JOURNAL_LOCK } from './schema.js';

const FILE_COLUMNS = 'path, state, sha256, duplicate_of, code, reason, size, mtime_ms, seen_at';
const JOURNAL_COLUMNS = 'seq, sha256, action, label, previous_label, predicted, probabilities, technician, display_name, model_id, note, at, prev_hash, hash';

const GONE = `(EXISTS (SELECT 1 FROM files f WHERE f.path = slides.path)
  AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = slides.sha256 AND f.state NOT IN ('gone', 'rejected')))`;

/** Every slide's gone flag from its files, rewriting only the slides whose flag changes. */
export const MARK_GONE = `UPDATE slides SET gone = NOT gone WHERE gone <> ${GONE}`;

export async function putFile(c: pg.PoolClient, entry: Parameters<typeof fileParams>[0]): Promise<void> {
  const p = fileParams(entry);
  await c.query(
    `INSERT INTO files (${FILE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (path) DO UPDATE SET state = excluded.state, sha256 = excluded.sha256, duplicate_of = excluded.duplicate_of,
       code = excluded.code, reason = excluded.reason, size = excluded.size, mtime_ms = excluded.mtime_ms, seen_at = excluded.seen_at`,
    [p.path, p.state, p.sha256, p.duplicate_of, p.code, p.reason, p.size, p.mtime_ms, p.seen_at],
  );
}

export async function answerFile(c: pg.PoolClient, query: FileQuery): Promise<unknown> {
  const one = async (sql: string, args: unknown[]) => (await c.query(sql, args)).rows[0];
  switch (query.q) {
    case 'file': {
      const row = await one('SELECT * FROM files WHERE path = $1', [query.path]);
      return row && fileOf(row);
    }
    case 'putFile':
      return putFile(c, query.entry);
    case 'slide': {
      const row = await one('SELECT * FROM slides WHERE sha256 = $1', [query.sha256]);
      return row && slideOf(row);
    }
    case 'addSlide': {
      const s = query.slide;
      return c.query('INSERT INTO slides (sha256, path, width, height, added_at) VALUES ($1, $2, $3, $4, $5)', [s.sha256, s.path, s.width, s.height, s.addedAt]);
    }
    case 'moveSlide':
      return c.query('UPDATE slides SET path = $1 WHERE sha256 = $2', [query.path, query.sha256]);
    case 'heir': {
      const row = await one("SELECT * FROM files WHERE sha256 = $1 AND state = 'duplicate' ORDER BY recorded LIMIT 1", [query.sha256]);
      return row && fileOf(row);
    }
    case 'passOn':
      return c.query('UPDATE files SET duplicate_of = $1 WHERE duplicate_of = $2', [query.to, query.from]);
    case 'markGone':
      return c.query(`${MARK_GONE} AND sha256 = $1`, [query.sha256]);
  }
}

/** Inserts an entry (made here, or by a migration) and sets the slide's label and the store's head. */
export async function insertEntry(c: pg.PoolClient, e: JournalEntry): Promise<void> {
  const p = journalParams(e);
  await c.query(`INSERT INTO journal (${JOURNAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, [
    p.seq,
    p.sha256,
    p.action,
    p.label,
    p.previous_label,
    p.predicted,
    p.probabilities,
    p.technician,
    p.display_name,
    p.model_id,
    p.note,
    p.at,
    p.prev_hash,
    p.hash,
  ]);
  await c.query('UPDATE slides SET label = $1, label_seq = $2 WHERE sha256 = $3', [e.label, e.label === null ? null : e.seq, e.sha256]);
  await c.query("INSERT INTO meta (key, value) VALUES ('journal_head', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [`${e.seq}:${e.hash}`]);
}

export async function answerDecision(c: pg.PoolClient, query: DecisionQuery): Promise<unknown> {
  switch (query.q) {
    case 'slideExists':
      return (await c.query('SELECT 1 FROM slides WHERE sha256 = $1', [query.sha256])).rowCount === 1;
    case 'decisions':
      return (await c.query<JournalRow>('SELECT * FROM journal WHERE sha256 = $1 ORDER BY seq', [query.sha256])).rows.map(decisionOfRow);
    case 'append': {
      // One append at a time across every host: the chain's head is read and extended under this lock.
      await c.query('SELECT pg_advisory_xact_lock($1)', [JOURNAL_LOCK]);
      const head = (await c.query('SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1')).rows[0] ?? { seq: 0, hash: '' };
      const body = { ...query.input, seq: head.seq + 1, at: new Date().toISOString(), prevHash: head.hash };
      const entry: JournalEntry = { ...body, hash: entryHash(body) };
      await insertEntry(c, entry);
      return entry;
    }
    case 'lease': {
      // Two hosts claiming one slide at once take turns: the second sees the first's lease.
      await c.query("SELECT pg_advisory_xact_lock(hashtext('lease:' || $1))", [query.sha256]);
      const r = (await c.query('SELECT * FROM leases WHERE sha256 = $1', [query.sha256])).rows[0];
      return r && { technician: r.technician, pid: r.pid, host: r.host, expiresAt: r.expires_at };
    }
    case 'putLease': {
      const l = query.lease;
      return c.query(
        `INSERT INTO leases (sha256, technician, pid, host, expires_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (sha256) DO UPDATE SET technician = excluded.technician, pid = excluded.pid, host = excluded.host, expires_at = excluded.expires_at`,
        [query.sha256, l.technician, l.pid, l.host, l.expiresAt],
      );
    }
    case 'decidedBy':
      return (await c.query('SELECT j.technician FROM slides s JOIN journal j ON j.seq = s.label_seq WHERE s.sha256 = $1', [query.sha256])).rows[0]?.technician;
  }
}

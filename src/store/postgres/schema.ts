// The PostgreSQL store's schema, version by version (the slidetriage_schema table), applied in one
// transaction under an advisory lock so that two hosts starting at once do not both migrate.
import { PG_SCHEMA_DIALECT, QUEUE_INDEXES, rankKey, talliesExpected } from '../queue-schema.js';

/** The rank rows as the predictions and slides make them (SQLite's RANKS_EXPECTED). */
export const PG_RANKS_EXPECTED = `SELECT DISTINCT ON (p.model_id, p.sha256) p.model_id, p.sha256, p.id, p.label, CASE WHEN p.unusual THEN 0 ELSE 1 END, p.margin,
     s.gone, s.label IS NOT NULL, s.added_at, s.path FROM predictions p JOIN slides s ON s.sha256 = p.sha256 ORDER BY p.model_id, p.sha256, p.id DESC`;

export const PG_TALLIES_EXPECTED = talliesExpected(PG_SCHEMA_DIALECT);

type Rows = 'new_rows' | 'old_rows';

/** One part of a tally change: a kind, its key written over a transition table's rows, counted +1 or −1 a row. */
type TallyPart = [kind: string, key: (row: string) => string, rows: Rows, sign: 1 | -1, where?: string];

/** Adds a statement's changes to the tallies, one upsert per key (each row's own would make PostgreSQL walk an ever longer chain of versions of the same tally row). */
const tallyDeltas = (parts: TallyPart[]) =>
  `INSERT INTO tallies SELECT kind, key, SUM(n) FROM (${parts
    .map(([kind, key, rows, sign, where]) => `SELECT '${kind}', ${key('r.')}, ${sign} FROM ${rows} r${where ? ` WHERE ${where}` : ''}`)
    .join(' UNION ALL ')}) d(kind, key, n)
     WHERE key IS NOT NULL GROUP BY kind, key HAVING SUM(n) <> 0 ON CONFLICT (kind, key) DO UPDATE SET n = tallies.n + excluded.n;`;

const slideKey = (r: string) => `${r}gone::int || ':' || (${r}label IS NOT NULL)::int`;
const labelKey = (r: string) => `${r}label`;
const rank = (r: string) => rankKey(PG_SCHEMA_DIALECT, r);
const fileParts = (rows: Rows, sign: 1 | -1): TallyPart[] => [
  ['files', (r) => `${r}state`, rows, sign],
  ['rejected', (r) => `COALESCE(${r}code, 'error')`, rows, sign, "r.state = 'rejected'"],
];

/** A statement-level trigger with its transition tables, and its function. */
const statementTrigger = (name: string, event: 'INSERT' | 'UPDATE' | 'DELETE', table: string, body: string) => {
  const referencing = { INSERT: 'NEW TABLE AS new_rows', UPDATE: 'OLD TABLE AS old_rows NEW TABLE AS new_rows', DELETE: 'OLD TABLE AS old_rows' }[event];
  return `CREATE FUNCTION slidetriage_${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body} RETURN NULL; END $$;
   CREATE TRIGGER ${name} AFTER ${event} ON ${table} REFERENCING ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION slidetriage_${name}();`;
};

const RANK_COLUMNS = (p: string, s: string) =>
  `${p}model_id, ${p}sha256, ${p}id, ${p}label, CASE WHEN ${p}unusual THEN 0 ELSE 1 END, ${p}margin, ${s}gone, ${s}label IS NOT NULL, ${s}added_at, ${s}path`;

// As the SQLite store's triggers, but per statement, over its transition tables: a million-row import
// then updates each tally row once per statement.
const PG_QUEUE_TRIGGERS = [
  statementTrigger(
    'ranks_on_prediction',
    'INSERT',
    'predictions',
    `INSERT INTO ranks SELECT DISTINCT ON (p.sha256, p.model_id) ${RANK_COLUMNS('p.', 's.')} FROM new_rows p JOIN slides s ON s.sha256 = p.sha256
       ORDER BY p.sha256, p.model_id, p.id DESC
       ON CONFLICT (sha256, model_id) DO UPDATE SET pid = excluded.pid, label = excluded.label, calm = excluded.calm, margin = excluded.margin;`,
  ),
  statementTrigger(
    'ranks_on_slide',
    'INSERT',
    'slides',
    `${tallyDeltas([
      ['slides', slideKey, 'new_rows', 1],
      ['label', labelKey, 'new_rows', 1],
    ])}
     INSERT INTO ranks SELECT DISTINCT ON (p.sha256, p.model_id) ${RANK_COLUMNS('p.', 's.')} FROM new_rows s JOIN predictions p ON p.sha256 = s.sha256
       ORDER BY p.sha256, p.model_id, p.id DESC ON CONFLICT (sha256, model_id) DO NOTHING;`,
  ),
  statementTrigger(
    'ranks_on_slide_change',
    'UPDATE',
    'slides',
    `${tallyDeltas([
      ['slides', slideKey, 'old_rows', -1],
      ['slides', slideKey, 'new_rows', 1],
      ['label', labelKey, 'old_rows', -1],
      ['label', labelKey, 'new_rows', 1],
    ])}
     UPDATE ranks r SET gone = n.gone, labelled = n.label IS NOT NULL, path = n.path FROM new_rows n JOIN old_rows o ON o.sha256 = n.sha256
       WHERE r.sha256 = n.sha256 AND (o.gone, o.label, o.path) IS DISTINCT FROM (n.gone, n.label, n.path);`,
  ),
  statementTrigger('rank_tally_on_insert', 'INSERT', 'ranks', tallyDeltas([['rank', rank, 'new_rows', 1]])),
  statementTrigger(
    'rank_tally_on_update',
    'UPDATE',
    'ranks',
    tallyDeltas([
      ['rank', rank, 'old_rows', -1],
      ['rank', rank, 'new_rows', 1],
    ]),
  ),
  statementTrigger('rank_tally_on_delete', 'DELETE', 'ranks', tallyDeltas([['rank', rank, 'old_rows', -1]])),
  statementTrigger('file_tally_on_insert', 'INSERT', 'files', tallyDeltas(fileParts('new_rows', 1))),
  statementTrigger('file_tally_on_update', 'UPDATE', 'files', tallyDeltas([...fileParts('old_rows', -1), ...fileParts('new_rows', 1)])),
  statementTrigger('file_tally_on_delete', 'DELETE', 'files', tallyDeltas(fileParts('old_rows', -1))),
].join('\n   ');

export const PG_SCHEMA: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE files (
     path TEXT PRIMARY KEY, state TEXT NOT NULL, sha256 TEXT, duplicate_of TEXT, code TEXT, reason TEXT,
     size DOUBLE PRECISION NOT NULL, mtime_ms DOUBLE PRECISION NOT NULL, seen_at TEXT NOT NULL, recorded BIGSERIAL);
   CREATE INDEX files_by_sha ON files (sha256);
   CREATE INDEX files_by_state ON files (state, code);
   CREATE INDEX files_by_duplicate ON files (duplicate_of) WHERE duplicate_of IS NOT NULL;
   CREATE TABLE slides (
     sha256 TEXT PRIMARY KEY, path TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, added_at TEXT NOT NULL,
     gone BOOLEAN NOT NULL DEFAULT FALSE, label TEXT, label_seq BIGINT, recorded BIGSERIAL);
   CREATE INDEX slides_by_arrival ON slides (gone, label, added_at, path);
   CREATE TABLE predictions (
     id BIGSERIAL PRIMARY KEY, sha256 TEXT NOT NULL, model_id TEXT NOT NULL, label TEXT NOT NULL,
     probabilities TEXT NOT NULL, at TEXT NOT NULL, explanations TEXT NOT NULL, ood TEXT,
     margin DOUBLE PRECISION NOT NULL, unusual BOOLEAN NOT NULL, host TEXT);
   CREATE INDEX predictions_by_model ON predictions (sha256, model_id, id);
   CREATE INDEX predictions_by_slide ON predictions (sha256, id);
   CREATE TABLE journal (
     seq BIGINT PRIMARY KEY, sha256 TEXT NOT NULL, action TEXT NOT NULL, label TEXT, previous_label TEXT,
     predicted TEXT, probabilities TEXT, technician TEXT NOT NULL, display_name TEXT, model_id TEXT,
     note TEXT NOT NULL, at TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
   CREATE INDEX journal_by_slide ON journal (sha256, seq);
   CREATE FUNCTION slidetriage_append_only() RETURNS trigger LANGUAGE plpgsql AS
     $$ BEGIN RAISE EXCEPTION 'the audit journal is append-only'; END $$;
   CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal FOR EACH ROW EXECUTE FUNCTION slidetriage_append_only();
   CREATE TABLE leases (sha256 TEXT PRIMARY KEY, technician TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL);
   CREATE TABLE set_aside (id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, source TEXT NOT NULL, what TEXT NOT NULL, bytes BYTEA NOT NULL);
   -- Moved by every write: the change stamp other hosts poll.
   CREATE SEQUENCE store_changes;`,
  // 2: engine hosts (slidetriage engine serve) and their heartbeats; one prediction per slide and model,
  // whichever host computed it first (a job retried after its worker died must not add a second).
  `CREATE TABLE engine_hosts (host TEXT NOT NULL, pid INTEGER NOT NULL, model_id TEXT NOT NULL, started_at TEXT NOT NULL,
     seen_at DOUBLE PRECISION NOT NULL, jobs_done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (host, pid));
   DELETE FROM predictions a USING predictions b WHERE a.sha256 = b.sha256 AND a.model_id = b.model_id AND a.id < b.id;
   CREATE UNIQUE INDEX predictions_one_per_model ON predictions (sha256, model_id);`,
  // 3 (issue #37): rank rows and tallies kept by triggers, as the SQLite store's schema step 2 (read it there).
  `CREATE TABLE ranks (
     model_id TEXT NOT NULL, sha256 TEXT NOT NULL, pid BIGINT NOT NULL, label TEXT NOT NULL, calm INTEGER NOT NULL,
     margin DOUBLE PRECISION NOT NULL, gone BOOLEAN NOT NULL, labelled BOOLEAN NOT NULL, added_at TEXT NOT NULL, path TEXT NOT NULL,
     PRIMARY KEY (sha256, model_id));
   INSERT INTO ranks ${PG_RANKS_EXPECTED};
   ${QUEUE_INDEXES}
   CREATE TABLE tallies (kind TEXT NOT NULL, key TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (kind, key));
   INSERT INTO tallies ${PG_TALLIES_EXPECTED};
   ${PG_QUEUE_TRIGGERS}`,
];

export const PG_SCHEMA_VERSION = PG_SCHEMA.length;

/** The advisory lock keys: migrations, and the journal's head (one decision at a time appends). */
export const MIGRATION_LOCK = 736_469_001;
export const JOURNAL_LOCK = 736_469_002;

// The PostgreSQL store's schema, version by version (the slidetriage_schema table), applied in one
// transaction under an advisory lock so that two hosts starting at once do not both migrate.

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
];

export const PG_SCHEMA_VERSION = PG_SCHEMA.length;

/** The advisory lock keys: migrations, and the journal's head (one decision at a time appends). */
export const MIGRATION_LOCK = 736_469_001;
export const JOURNAL_LOCK = 736_469_002;

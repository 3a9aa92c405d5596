// The PostgreSQL store's schema, version by version (the slidetriage_schema table), applied in one
// transaction under an advisory lock so that two hosts starting at once do not both migrate.
import { PG_SCHEMA_DIALECT, QUEUE_INDEXES, rankKey, talliesExpected } from '../queue-schema.js';

/** The rank rows as the predictions and slides make them (SQLite's RANKS_EXPECTED). */
export const PG_RANKS_EXPECTED = `SELECT DISTINCT ON (p.model_id, p.sha256) p.model_id, p.sha256, p.id, p.label, CASE WHEN p.unusual THEN 0 ELSE 1 END, p.margin,
     s.gone, s.label IS NOT NULL, s.added_at, s.path FROM predictions p JOIN slides s ON s.sha256 = p.sha256 ORDER BY p.model_id, p.sha256, p.id DESC`;

export const PG_TALLIES_EXPECTED = talliesExpected(PG_SCHEMA_DIALECT);

const PG_QUEUE_TRIGGERS = `
   CREATE FUNCTION slidetriage_tally(TEXT, TEXT, INTEGER) RETURNS void LANGUAGE sql AS
     $$ INSERT INTO tallies SELECT $1, $2, $3 WHERE $2 IS NOT NULL ON CONFLICT (kind, key) DO UPDATE SET n = tallies.n + $3 $$;
   CREATE FUNCTION slidetriage_rank_on_prediction() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
     INSERT INTO ranks SELECT NEW.model_id, NEW.sha256, NEW.id, NEW.label, CASE WHEN NEW.unusual THEN 0 ELSE 1 END, NEW.margin, s.gone, s.label IS NOT NULL, s.added_at, s.path
       FROM slides s WHERE s.sha256 = NEW.sha256
       ON CONFLICT (sha256, model_id) DO UPDATE SET pid = excluded.pid, label = excluded.label, calm = excluded.calm, margin = excluded.margin;
     RETURN NULL; END $$;
   CREATE TRIGGER ranks_on_prediction AFTER INSERT ON predictions FOR EACH ROW EXECUTE FUNCTION slidetriage_rank_on_prediction();
   CREATE FUNCTION slidetriage_on_slide() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
     IF TG_OP = 'UPDATE' THEN
       PERFORM slidetriage_tally('slides', OLD.gone::int || ':' || (OLD.label IS NOT NULL)::int, -1);
       PERFORM slidetriage_tally('label', OLD.label, -1);
       UPDATE ranks SET gone = NEW.gone, labelled = NEW.label IS NOT NULL, path = NEW.path WHERE sha256 = NEW.sha256;
     ELSE
       INSERT INTO ranks SELECT DISTINCT ON (p.model_id) p.model_id, p.sha256, p.id, p.label, CASE WHEN p.unusual THEN 0 ELSE 1 END, p.margin,
         NEW.gone, NEW.label IS NOT NULL, NEW.added_at, NEW.path FROM predictions p WHERE p.sha256 = NEW.sha256 ORDER BY p.model_id, p.id DESC;
     END IF;
     PERFORM slidetriage_tally('slides', NEW.gone::int || ':' || (NEW.label IS NOT NULL)::int, 1);
     PERFORM slidetriage_tally('label', NEW.label, 1);
     RETURN NULL; END $$;
   CREATE TRIGGER ranks_on_slide AFTER INSERT ON slides FOR EACH ROW EXECUTE FUNCTION slidetriage_on_slide();
   CREATE TRIGGER ranks_on_slide_change AFTER UPDATE OF gone, label, path ON slides FOR EACH ROW
     WHEN ((OLD.gone, OLD.label, OLD.path) IS DISTINCT FROM (NEW.gone, NEW.label, NEW.path)) EXECUTE FUNCTION slidetriage_on_slide();
   CREATE FUNCTION slidetriage_rank_tally() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
     IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM slidetriage_tally('rank', ${rankKey(PG_SCHEMA_DIALECT, 'OLD.')}, -1); END IF;
     IF TG_OP IN ('UPDATE', 'INSERT') THEN PERFORM slidetriage_tally('rank', ${rankKey(PG_SCHEMA_DIALECT, 'NEW.')}, 1); END IF;
     RETURN NULL; END $$;
   CREATE TRIGGER rank_tally AFTER INSERT OR DELETE OR UPDATE OF gone, labelled, label ON ranks FOR EACH ROW EXECUTE FUNCTION slidetriage_rank_tally();
   CREATE FUNCTION slidetriage_file_tally() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
     IF TG_OP IN ('UPDATE', 'DELETE') THEN
       PERFORM slidetriage_tally('files', OLD.state, -1);
       IF OLD.state = 'rejected' THEN PERFORM slidetriage_tally('rejected', COALESCE(OLD.code, 'error'), -1); END IF;
     END IF;
     IF TG_OP IN ('UPDATE', 'INSERT') THEN
       PERFORM slidetriage_tally('files', NEW.state, 1);
       IF NEW.state = 'rejected' THEN PERFORM slidetriage_tally('rejected', COALESCE(NEW.code, 'error'), 1); END IF;
     END IF;
     RETURN NULL; END $$;
   CREATE TRIGGER file_tally AFTER INSERT OR DELETE OR UPDATE OF state, code ON files FOR EACH ROW EXECUTE FUNCTION slidetriage_file_tally();`;

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

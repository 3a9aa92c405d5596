// The embedded store's schema, version by version (PRAGMA user_version). Each step runs in one
// transaction; a store written by a newer slidetriage is refused rather than guessed at.
import { QUEUE_INDEXES, rankKey, SQLITE_SCHEMA, talliesExpected } from '../queue-schema.js';

/** 'slid' in ASCII: marks a SQLite file as a slidetriage store (PRAGMA application_id). */
export const APPLICATION_ID = 0x736c6964;

/** The rank rows as the predictions and slides make them: each model's latest prediction of each slide. */
export const RANKS_EXPECTED = `SELECT p.model_id, p.sha256, p.id, p.label, 1 - p.unusual, p.margin, s.gone, s.label IS NOT NULL, s.added_at, s.path
     FROM predictions p JOIN slides s ON s.sha256 = p.sha256
     WHERE p.id = (SELECT MAX(id) FROM predictions q WHERE q.sha256 = p.sha256 AND q.model_id = p.model_id)`;

export const TALLIES_EXPECTED = talliesExpected(SQLITE_SCHEMA);

const tally = (kind: string, key: string, by: number) => `INSERT INTO tallies VALUES ('${kind}', ${key}, ${by}) ON CONFLICT DO UPDATE SET n = n + ${by};`;

// Each write keeps the rank rows and the tallies in step, inside its own transaction, so that a crash
// (kill -9) at any point leaves them matching the tables they count.
const QUEUE_TRIGGERS = `
   CREATE TRIGGER ranks_on_prediction AFTER INSERT ON predictions BEGIN
     INSERT INTO ranks SELECT NEW.model_id, NEW.sha256, NEW.id, NEW.label, 1 - NEW.unusual, NEW.margin, s.gone, s.label IS NOT NULL, s.added_at, s.path
       FROM slides s WHERE s.sha256 = NEW.sha256
       ON CONFLICT (sha256, model_id) DO UPDATE SET pid = excluded.pid, label = excluded.label, calm = excluded.calm, margin = excluded.margin;
   END;
   CREATE TRIGGER ranks_on_slide AFTER INSERT ON slides BEGIN
     ${tally('slides', "NEW.gone || ':' || (NEW.label IS NOT NULL)", 1)}
     INSERT INTO tallies SELECT 'label', NEW.label, 1 WHERE NEW.label IS NOT NULL ON CONFLICT DO UPDATE SET n = n + 1;
     INSERT INTO ranks SELECT p.model_id, p.sha256, p.id, p.label, 1 - p.unusual, p.margin, NEW.gone, NEW.label IS NOT NULL, NEW.added_at, NEW.path
       FROM predictions p WHERE p.sha256 = NEW.sha256 AND p.id = (SELECT MAX(id) FROM predictions q WHERE q.sha256 = p.sha256 AND q.model_id = p.model_id);
   END;
   CREATE TRIGGER ranks_on_slide_change AFTER UPDATE OF gone, label, path ON slides
     WHEN OLD.gone IS NOT NEW.gone OR OLD.label IS NOT NEW.label OR OLD.path IS NOT NEW.path BEGIN
     ${tally('slides', "OLD.gone || ':' || (OLD.label IS NOT NULL)", -1)}
     ${tally('slides', "NEW.gone || ':' || (NEW.label IS NOT NULL)", 1)}
     UPDATE ranks SET gone = NEW.gone, labelled = NEW.label IS NOT NULL, path = NEW.path WHERE sha256 = NEW.sha256;
   END;
   CREATE TRIGGER label_tally_on_change AFTER UPDATE OF label ON slides WHEN OLD.label IS NOT NEW.label BEGIN
     INSERT INTO tallies SELECT 'label', OLD.label, -1 WHERE OLD.label IS NOT NULL ON CONFLICT DO UPDATE SET n = n - 1;
     INSERT INTO tallies SELECT 'label', NEW.label, 1 WHERE NEW.label IS NOT NULL ON CONFLICT DO UPDATE SET n = n + 1;
   END;
   CREATE TRIGGER rank_tally_on_insert AFTER INSERT ON ranks BEGIN ${tally('rank', rankKey(SQLITE_SCHEMA, 'NEW.'), 1)} END;
   CREATE TRIGGER rank_tally_on_delete AFTER DELETE ON ranks BEGIN ${tally('rank', rankKey(SQLITE_SCHEMA, 'OLD.'), -1)} END;
   CREATE TRIGGER rank_tally_on_update AFTER UPDATE OF gone, labelled, label ON ranks BEGIN
     ${tally('rank', rankKey(SQLITE_SCHEMA, 'OLD.'), -1)}
     ${tally('rank', rankKey(SQLITE_SCHEMA, 'NEW.'), 1)}
   END;
   CREATE TRIGGER file_tally_on_insert AFTER INSERT ON files BEGIN
     ${tally('files', 'NEW.state', 1)}
     INSERT INTO tallies SELECT 'rejected', COALESCE(NEW.code, 'error'), 1 WHERE NEW.state = 'rejected' ON CONFLICT DO UPDATE SET n = n + 1;
   END;
   CREATE TRIGGER file_tally_on_delete AFTER DELETE ON files BEGIN
     ${tally('files', 'OLD.state', -1)}
     INSERT INTO tallies SELECT 'rejected', COALESCE(OLD.code, 'error'), -1 WHERE OLD.state = 'rejected' ON CONFLICT DO UPDATE SET n = n - 1;
   END;
   CREATE TRIGGER file_tally_on_update AFTER UPDATE OF state, code ON files BEGIN
     ${tally('files', 'OLD.state', -1)}
     ${tally('files', 'NEW.state', 1)}
     INSERT INTO tallies SELECT 'rejected', COALESCE(OLD.code, 'error'), -1 WHERE OLD.state = 'rejected' ON CONFLICT DO UPDATE SET n = n - 1;
     INSERT INTO tallies SELECT 'rejected', COALESCE(NEW.code, 'error'), 1 WHERE NEW.state = 'rejected' ON CONFLICT DO UPDATE SET n = n + 1;
   END;`;

export const SCHEMA: readonly string[] = [
  // 1: files, slides, predictions, the journal (append-only), leases, and what a migration set aside.
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE files (
     path TEXT PRIMARY KEY, state TEXT NOT NULL, sha256 TEXT, duplicate_of TEXT, code TEXT, reason TEXT,
     size INTEGER NOT NULL, mtime_ms REAL NOT NULL, seen_at TEXT NOT NULL);
   CREATE INDEX files_by_sha ON files (sha256);
   CREATE INDEX files_by_state ON files (state, code);
   CREATE INDEX files_by_duplicate ON files (duplicate_of) WHERE duplicate_of IS NOT NULL;
   -- gone, label and label_seq are kept from files and the journal, so that the queue filters and counts on indexes.
   CREATE TABLE slides (
     sha256 TEXT PRIMARY KEY, path TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, added_at TEXT NOT NULL,
     gone INTEGER NOT NULL DEFAULT 0, label TEXT, label_seq INTEGER);
   CREATE INDEX slides_by_arrival ON slides (gone, label, added_at, path);
   CREATE INDEX slides_by_label ON slides (label) WHERE label IS NOT NULL;
   CREATE TABLE predictions (
     id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, model_id TEXT NOT NULL, label TEXT NOT NULL,
     probabilities TEXT NOT NULL, at TEXT NOT NULL, explanations TEXT NOT NULL, ood TEXT,
     margin REAL NOT NULL, unusual INTEGER NOT NULL);
   CREATE INDEX predictions_by_model ON predictions (sha256, model_id, id);
   CREATE INDEX predictions_by_slide ON predictions (sha256, id);
   CREATE TABLE journal (
     seq INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, action TEXT NOT NULL, label TEXT, previous_label TEXT,
     predicted TEXT, probabilities TEXT, technician TEXT NOT NULL, display_name TEXT, model_id TEXT,
     note TEXT NOT NULL, at TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
   CREATE INDEX journal_by_slide ON journal (sha256, seq);
   CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal BEGIN SELECT RAISE(ABORT, 'the audit journal is append-only'); END;
   CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal BEGIN SELECT RAISE(ABORT, 'the audit journal is append-only'); END;
   CREATE TABLE leases (sha256 TEXT PRIMARY KEY, technician TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, expires_at INTEGER NOT NULL);
   CREATE TABLE set_aside (id INTEGER PRIMARY KEY, at TEXT NOT NULL, source TEXT NOT NULL, what TEXT NOT NULL, bytes BLOB NOT NULL);`,
  // 2 (issue #37): the queue at a million slides. A rank row per slide and model (that model's latest
  // prediction, with the slide's gone, labelled, arrival and path beside it) so that every sort the app
  // offers is one index read, and tallies kept by the writes themselves (triggers, in the same transaction)
  // so that the counts read a few rows. `calm` is 0 for an unusual slide: they come first.
  `CREATE TABLE ranks (
     model_id TEXT NOT NULL, sha256 TEXT NOT NULL, pid INTEGER NOT NULL, label TEXT NOT NULL, calm INTEGER NOT NULL,
     margin REAL NOT NULL, gone INTEGER NOT NULL, labelled INTEGER NOT NULL, added_at TEXT NOT NULL, path TEXT NOT NULL,
     PRIMARY KEY (sha256, model_id)) WITHOUT ROWID;
   INSERT INTO ranks ${RANKS_EXPECTED};
   ${QUEUE_INDEXES}
   CREATE TABLE tallies (kind TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;
   INSERT INTO tallies ${TALLIES_EXPECTED};
   ${QUEUE_TRIGGERS}`,
];

export const SCHEMA_VERSION = SCHEMA.length;

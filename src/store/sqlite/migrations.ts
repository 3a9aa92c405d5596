// The embedded store's schema, version by version (PRAGMA user_version). Each step runs in one
// transaction; a store written by a newer slidetriage is refused rather than guessed at.

/** 'slid' in ASCII: marks a SQLite file as a slidetriage store (PRAGMA application_id). */
export const APPLICATION_ID = 0x736c6964;

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
];

export const SCHEMA_VERSION = SCHEMA.length;

// A large import into the SQLite store: the queue's sort indexes are dropped before the rows go in and built
// again after, in the import's own transaction (a crash leaves the store as it was, indexes and all). Each row
// then goes into the tables and the rank rows alone, and each index is built by one sort instead of a
// million inserts at random places: at 100,000 predictions the import took 6.1 s with the indexes kept and
// 4.3 s with them built after.
import type Database from 'better-sqlite3';
import { QUEUE_INDEX_NAMES } from '../queue-schema.js';

/** Rows in one import from which the indexes are built after it rather than kept up row by row. */
export const BULK_ROWS = 50_000;

/**
 * Runs `insert` (inside the caller's transaction) with the sort indexes of each table it writes many rows
 * into (slides; ranks, which predictions write) built after it. A table written little keeps its indexes:
 * building them again would cost more than the rows' inserts.
 */
export function withQueueIndexesAfter<T>(db: Database.Database, rows: { slides: number; ranks: number }, insert: () => T): T {
  const names = (Object.keys(rows) as Array<keyof typeof rows>).filter((table) => rows[table] >= BULK_ROWS).flatMap((table) => QUEUE_INDEX_NAMES[table]);
  if (!names.length) return insert();
  const marks = names.map(() => '?').join(', ');
  const indexes = db.prepare<string[], { name: string; sql: string }>(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN (${marks})`).all(...names);
  for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`);
  const out = insert();
  for (const { sql } of indexes) db.exec(sql);
  return out;
}

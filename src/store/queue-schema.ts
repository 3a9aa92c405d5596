// What the two stores' schemas share for the queue (issue #37): the indexes of its sorts, the key of a rank
// row's tally, and the tallies as a count of the tables makes them. Each store's own step writes the table
// types and the triggers in its dialect (sqlite/migrations.ts, postgres/schema.ts).

/** How a dialect writes a flag as the digit 0 or 1 (SQLite's integers as they are, PostgreSQL's booleans cast), and character 31. */
export interface SchemaDialect {
  digit(expr: string): string;
  separator: string;
}

export const SQLITE_SCHEMA: SchemaDialect = { digit: (expr) => `(${expr})`, separator: 'char(31)' };
export const PG_SCHEMA_DIALECT: SchemaDialect = { digit: (expr) => `(${expr})::int`, separator: 'chr(31)' };

/** A rank row's tally key: `model␟{gone}{labelled}␟label`, which the queue's totals filter on (steps/queue-window.ts). */
export const rankKey = ({ digit, separator }: SchemaDialect, row: string) => `${row}model_id || ${separator} || ${digit(`${row}gone`)} || ${digit(`${row}labelled`)} || ${separator} || ${row}label`;

/** The tallies as a count of the tables makes them (the rank rows counted as they are): migration and check. */
export const talliesExpected = (d: SchemaDialect) => `SELECT 'slides', ${d.digit('gone')} || ':' || ${d.digit('label IS NOT NULL')}, COUNT(*) FROM slides GROUP BY 2
   UNION ALL SELECT 'label', label, COUNT(*) FROM slides WHERE label IS NOT NULL GROUP BY 2
   UNION ALL SELECT 'files', state, COUNT(*) FROM files GROUP BY 2
   UNION ALL SELECT 'rejected', COALESCE(code, 'error'), COUNT(*) FROM files WHERE state = 'rejected' GROUP BY 2
   UNION ALL SELECT 'rank', ${rankKey(d, '')}, COUNT(*) FROM ranks GROUP BY 2`;

// The indexes of the queue's sorts: by uncertainty within a state filter (to review, labelled) or over all
// slides in the folder, and by arrival over the slides (a predicted-label filter is checked on the way: a
// quarter of the slides pass it, so a window reads a few hundred index entries). The rank rows' key is
// (sha256, model_id), so that a slide's rows are found by their key too.
export const QUEUE_INDEXES = `
   CREATE INDEX ranks_by_state ON ranks (model_id, gone, labelled, calm, margin, added_at, path, sha256);
   CREATE INDEX ranks_by_uncertainty ON ranks (model_id, gone, calm, margin, added_at, path, sha256);
   DROP INDEX slides_by_arrival;
   CREATE INDEX slides_by_arrival ON slides (gone, (label IS NOT NULL), added_at, path, sha256);
   CREATE INDEX slides_by_arrival_all ON slides (gone, added_at, path, sha256);`;

/** The queue's sort indexes, which only the queue's reads use (no trigger reads them): a large import may drop
 *  them and build them again after it (store/sqlite/bulk.ts). */
export const QUEUE_INDEX_NAMES = { ranks: ['ranks_by_state', 'ranks_by_uncertainty'], slides: ['slides_by_arrival', 'slides_by_arrival_all'] } as const;

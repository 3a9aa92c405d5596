// Whole records into PostgreSQL in chunks (a migration, a copy, the store bench): one INSERT … SELECT FROM
// unnest(arrays) per chunk instead of a round trip per row, so that a million slides take minutes, not an
// hour. The triggers keep the rank rows and tallies as for any other write.
import type pg from 'pg';
import type { JournalEntry } from '../journal.js';
import type { FileEntry, Prediction, Slide } from '../schema.js';
import { fileParams, journalParams, predictionParams } from '../rows.js';
import { hostName } from '../../core/host.js';

const CHUNK = 5000;

/** Inserts rows given as objects of the columns' values, `types` the PostgreSQL array type of each column. */
async function insertChunks(c: pg.PoolClient, table: string, types: Record<string, string>, rows: Array<Record<string, unknown>>, conflict: string): Promise<void> {
  const columns = Object.keys(types);
  for (let from = 0; from < rows.length; from += CHUNK) {
    const chunk = rows.slice(from, from + CHUNK);
    const arrays = columns.map((col) => chunk.map((r) => r[col] ?? null));
    const unnest = columns.map((col, i) => `$${i + 1}::${types[col]}[]`).join(', ');
    await c.query(`INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${unnest}) ${conflict}`, arrays);
  }
}

export async function insertSlides(c: pg.PoolClient, slides: Slide[]): Promise<void> {
  const rows = slides.map((s) => ({ sha256: s.sha256, path: s.path, width: s.width, height: s.height, added_at: s.addedAt }));
  await insertChunks(c, 'slides', { sha256: 'text', path: 'text', width: 'int', height: 'int', added_at: 'text' }, rows, 'ON CONFLICT (sha256) DO UPDATE SET path = excluded.path');
}

export async function insertFiles(c: pg.PoolClient, files: FileEntry[]): Promise<void> {
  const types = { path: 'text', state: 'text', sha256: 'text', duplicate_of: 'text', code: 'text', reason: 'text', size: 'float8', mtime_ms: 'float8', seen_at: 'text' };
  const set = Object.keys(types)
    .filter((k) => k !== 'path')
    .map((k) => `${k} = excluded.${k}`)
    .join(', ');
  await insertChunks(c, 'files', types, files.map(fileParams), `ON CONFLICT (path) DO UPDATE SET ${set}`);
}

/** Predictions, with the host that computed them; a second of the same slide and model is dropped. */
export async function insertPredictions(c: pg.PoolClient, predictions: Array<{ sha256: string; prediction: Prediction }>): Promise<void> {
  const types = { sha256: 'text', model_id: 'text', label: 'text', probabilities: 'text', at: 'text', explanations: 'text', ood: 'text', margin: 'float8', unusual: 'bool', host: 'text' };
  const rows = predictions.map((p) => {
    const v = predictionParams(p.sha256, p.prediction);
    return { ...v, unusual: v.unusual === 1, host: hostName() };
  });
  await insertChunks(c, 'predictions', types, rows, 'ON CONFLICT (sha256, model_id) DO NOTHING');
}

/** Journal entries as made elsewhere (seq, time and hashes kept); each slide takes the label of its last one. */
export async function insertEntries(c: pg.PoolClient, entries: JournalEntry[]): Promise<void> {
  if (!entries.length) return;
  const types = {
    seq: 'bigint',
    sha256: 'text',
    action: 'text',
    label: 'text',
    previous_label: 'text',
    predicted: 'text',
    probabilities: 'text',
    technician: 'text',
    display_name: 'text',
    model_id: 'text',
    note: 'text',
    at: 'text',
    prev_hash: 'text',
    hash: 'text',
  };
  await insertChunks(c, 'journal', types, entries.map(journalParams), '');
  const last = [...new Map(entries.map((e) => [e.sha256, e])).values()];
  for (let from = 0; from < last.length; from += CHUNK) {
    const chunk = last.slice(from, from + CHUNK);
    await c.query('UPDATE slides s SET label = j.label, label_seq = j.seq FROM unnest($1::text[], $2::text[], $3::bigint[]) AS j(sha256, label, seq) WHERE s.sha256 = j.sha256', [
      chunk.map((e) => e.sha256),
      chunk.map((e) => e.label),
      chunk.map((e) => (e.label === null ? null : e.seq)),
    ]);
  }
  const head = entries.at(-1)!;
  await c.query("INSERT INTO meta (key, value) VALUES ('journal_head', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [`${head.seq}:${head.hash}`]);
}

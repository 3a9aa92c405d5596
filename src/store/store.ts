// Opening the configured store: the embedded SQLite store (a file: the default) or PostgreSQL (an address);
// everything outside src/store/ talks to it through the SlideStore interface (types.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { StoreFormatError } from './schema.js';
import { SqliteStore } from './sqlite/store.js';
import { PgStore } from './postgres/store.js';
import { isPostgresAddress } from './postgres/connection.js';
import type { OpenOptions } from './sqlite/connection.js';
import { currentIdentity, type Identity, type SlideStore } from './types.js';

export type { Claim, ClaimOptions, Decided, DecisionInput, Identity, SlideStore } from './types.js';
export { currentIdentity } from './types.js';
export { labelStack } from './schema.js';

/** The JSON store of slidetriage before 0.2, which `slidetriage store migrate` imports. */
export function legacyStoreBeside(file: string): string | null {
  const legacy = path.join(path.dirname(file), 'store.json');
  return legacy !== file && existsSync(legacy) ? legacy : null;
}

/**
 * Opens (creating if needed) the store at `file`. A folder that still holds only an older JSON store is
 * not opened empty beside it: the technician is told to migrate it first, so that no label looks lost.
 */
export async function openStore(file: string, identity: Identity = currentIdentity(), o: OpenOptions & { migrating?: boolean } = {}): Promise<SlideStore> {
  if (isPostgresAddress(file)) return PgStore.open(file, identity);
  if (file.endsWith('.json')) throw new StoreFormatError(`${file} is a JSON store of an older slidetriage: set "store" to a .db file (e.g. ./data/store.db) and run \`slidetriage store migrate\``);
  const legacy = legacyStoreBeside(file);
  const migrateFirst = (what: string) =>
    new StoreFormatError(`${legacy} holds the labels of an older slidetriage, and ${file} ${what}: run \`slidetriage store migrate\` to import them (the old files stay untouched)`);
  if (legacy && !o.migrating && !existsSync(file)) throw migrateFirst('does not exist yet');
  const store = await SqliteStore.open(file, identity, o);
  // An empty store beside the old one (a migrate that failed before this version wrote into a temporary file).
  if (legacy && !o.migrating && (await isEmpty(store))) {
    await store.close();
    throw migrateFirst('is empty');
  }
  return store;
}

async function isEmpty(store: SlideStore): Promise<boolean> {
  const s = await store.summary();
  return s.slides + s.goneSlides === 0 && s.journalEntries === 0;
}

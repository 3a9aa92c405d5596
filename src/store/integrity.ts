// Commands that act on the labels (export, retrain) and the app at start check the store first, and refuse
// with the damage named: a damaged journal page once gave a partial export with exit 0.
import type { VerifyResult } from './journal.js';
import type { SlideStore } from './types.js';

export class StoreDamagedError extends Error {
  override name = 'StoreDamagedError';
}

/** The refusal, naming what the check found (the first five problems). */
export function damagedError(location: string, result: VerifyResult): StoreDamagedError {
  const shown = result.problems.slice(0, 5).join('; ');
  const more = result.problems.length > 5 ? ` (and ${result.problems.length - 5} more)` : '';
  return new StoreDamagedError(`the store ${location} is damaged, so nothing was done: ${shown}${more}. \`slidetriage audit verify\` lists every problem; restore the store from a backup`);
}

/** Throws StoreDamagedError, naming what `audit verify` finds, unless the store's journal verifies (whole, or since it last did: `recent`). */
export async function assertStoreIntact(store: SlideStore, o: { recent?: boolean } = {}): Promise<void> {
  const result = o.recent ? await store.verifyRecent() : await store.verifyJournal();
  if (!result.ok) throw damagedError(store.location, result);
}

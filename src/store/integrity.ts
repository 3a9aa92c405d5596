// Commands that act on the labels (export, retrain) and the app at start check the store first, and refuse
// with the damage named: a damaged journal page once gave a partial export with exit 0.
import type { SlideStore } from './types.js';

export class StoreDamagedError extends Error {
  override name = 'StoreDamagedError';
}

/** Throws StoreDamagedError, naming what `audit verify` finds, unless the store's journal verifies. */
export async function assertStoreIntact(store: SlideStore): Promise<void> {
  const result = await store.verifyJournal();
  if (result.ok) return;
  const shown = result.problems.slice(0, 5).join('; ');
  const more = result.problems.length > 5 ? ` (and ${result.problems.length - 5} more)` : '';
  throw new StoreDamagedError(`the store ${store.location} is damaged, so nothing was done: ${shown}${more}. \`slidetriage audit verify\` lists every problem; restore the store from a backup`);
}

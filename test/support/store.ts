// Stores for tests: each implementation of the SlideStore interface, opened on a fresh place, with slides.
import path from 'node:path';
import { openStore } from '../../src/store/store.js';
import type { OpenOptions } from '../../src/store/sqlite/connection.js';
import type { Identity, SlideStore } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';

export const shaOf = (i: number) => i.toString(16).padStart(64, '0');

/** A store implementation as the conformance suite sees it: where a fresh one is, and how to open it. */
export interface StoreKind {
  name: string;
  /** A new, empty place for a store (a file, or a database address). */
  fresh(): Promise<string>;
  open(location: string, identity?: Identity, o?: OpenOptions): Promise<SlideStore>;
}

export const SQLITE: StoreKind = {
  name: 'SQLite',
  fresh: async () => path.join(await tempDir(), 'data', 'store.db'),
  open: (location, identity = { technician: 'tester', displayName: 'Test Er' }, o) => openStore(location, identity, o),
};

/** Slides s0.png… with no file entries (so never gone), added through importRecords. */
export async function addSlides(store: SlideStore, n: number, first = 0): Promise<string[]> {
  const addedAt = new Date().toISOString();
  const slides = Array.from({ length: n }, (_, k) => ({ sha256: shaOf(first + k), path: `s${first + k}.png`, width: 100, height: 100, addedAt }));
  await store.importRecords({ slides });
  return slides.map((s) => s.sha256);
}

export async function storeWithSlides(kind: StoreKind, n: number, identity?: Identity) {
  const location = await kind.fresh();
  const store = await kind.open(location, identity);
  await addSlides(store, n);
  return { location, store };
}

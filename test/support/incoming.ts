// A temporary incoming folder with its store, and watchers on it that the test's afterEach stops.
import fs from 'node:fs/promises';
import path from 'node:path';
import { IncomingWatcher, type WatcherOptions } from '../../src/ingest/watcher.js';
import { openStore } from '../../src/store/store.js';
import { tempDir } from '../helpers.js';

export const LIMITS = { extensions: ['jpg', 'jpeg', 'png', 'bmp', 'tif', 'tiff'], maxPixels: 64_000_000, maxBytes: 256 * 1024 * 1024 };

export function incomingFixture(watchers: IncomingWatcher[]) {
  return async (limits: typeof LIMITS & { settleSeconds?: number } = LIMITS) => {
    const dir = await tempDir();
    const incoming = path.join(dir, 'incoming');
    await fs.mkdir(incoming);
    const store = await openStore(path.join(dir, 'data/store.db'));
    const start = (opts: WatcherOptions = {}) => {
      const w = new IncomingWatcher(incoming, store, limits, { stabilityMs: 200, ...opts });
      const warnings: string[] = [];
      w.on('warning', (m) => warnings.push(m));
      watchers.push(w);
      w.start();
      return { w, warnings };
    };
    return { dir, incoming, store, start };
  };
}

export async function waitUntil(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

// `store migrate` into SQLite writes a temporary store beside the target and renames it into place only once
// the import verified: a migrate that fails or is killed leaves no `store.db` (an empty one once did, and
// every command then used it instead of asking for the migration).
import { existsSync, openSync, closeSync, fsyncSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { processAlive } from '../core/host.js';
import { headsFileOf } from './heads.js';
import { MigrationRefused } from './migrate-legacy.js';
import { openStore } from './store.js';

const SIDE_FILES = ['-wal', '-shm', '-journal'];

async function removeStore(file: string): Promise<void> {
  await Promise.all([file, ...SIDE_FILES.map((s) => file + s), headsFileOf(file)].map((f) => fs.rm(f, { force: true })));
}

/** Temporary stores of migrates that died (their process is gone). */
async function removeStale(target: string): Promise<void> {
  const prefix = `${path.basename(target)}.migrating-`;
  for (const name of await fs.readdir(path.dirname(target)).catch(() => [] as string[])) {
    const pid = Number(/^(\d+)$/.exec(name.slice(prefix.length).split(/[-.]/)[0])?.[1]);
    if (!name.startsWith(prefix) || !pid || processAlive(pid)) continue;
    await fs.rm(path.join(path.dirname(target), name), { force: true });
  }
}

/** Runs `migrate` on a temporary store, then renames it (and its heads file) to `target`. */
export async function migrateViaTemporaryFile(target: string, migrate: (tmp: string) => Promise<unknown>): Promise<void> {
  if (existsSync(target)) {
    // An earlier version's failed migrate may have left an empty store: it may be replaced, a store with data never.
    const store = await openStore(target, undefined, { migrating: true });
    const s = await store.summary().finally(() => store.close());
    if (s.slides + s.goneSlides > 0 || s.journalEntries > 0)
      throw new MigrationRefused(`${target} already holds ${s.slides + s.goneSlides} slide(s) and ${s.journalEntries} decision(s): migrate into a new store`);
  }
  await fs.mkdir(path.dirname(target), { recursive: true });
  await removeStale(target);
  const tmp = `${target}.migrating-${process.pid}`;
  await removeStore(tmp);
  try {
    await migrate(tmp); // closed when it returns: its log is checkpointed into the file
    if (existsSync(headsFileOf(tmp))) await fs.rename(headsFileOf(tmp), headsFileOf(target));
    await Promise.all(SIDE_FILES.map((s) => fs.rm(target + s, { force: true })));
    await fs.rename(tmp, target);
    const dir = openSync(path.dirname(target), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch (err) {
    await removeStore(tmp);
    throw err;
  }
}

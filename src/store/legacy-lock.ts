// The lock folder an older slidetriage (the JSON store) kept beside store.json and audit.jsonl while it wrote
// them. The SQLite store has no such lock; `store migrate` only looks at it, so as not to import a store
// another program is writing. It counts for a bounded time: a lock two days old whose pid now belongs to
// some other process (pids are reused) is not a writer, and never makes anyone wait.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from '../core/host.js';

/** A JSON-store write takes seconds; a lock older than this was left by a process that is gone. */
export const LEGACY_LOCK_MAX_AGE_MS = 10 * 60_000;

export interface LegacyWriter {
  pid: number;
  host: string;
  ageMs: number;
}

/** The process writing `file` through an older slidetriage's lock, or null when none (or the lock is stale). */
export async function legacyWriter(file: string): Promise<LegacyWriter | null> {
  const dir = `${file}.lock`;
  const stat = await fs.stat(dir).catch(() => null);
  if (!stat) return null;
  const ageMs = Date.now() - stat.mtimeMs;
  if (ageMs > LEGACY_LOCK_MAX_AGE_MS) return null;
  let owner: { pid?: number; host?: string } = {};
  try {
    owner = JSON.parse(await fs.readFile(path.join(dir, 'owner.json'), 'utf8'));
  } catch {
    // an owner that cannot be read: its age alone decides
  }
  if (typeof owner.pid === 'number' && owner.host === os.hostname() && !processAlive(owner.pid)) return null;
  return { pid: owner.pid ?? -1, host: owner.host ?? 'unknown', ageMs };
}

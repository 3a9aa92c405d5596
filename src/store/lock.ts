// A cross-process lock for the store and the journal: a lock folder, renamed into place whole (atomic),
// holding the owner's pid, host and a random token. A waiting process on the same host breaks the lock at once when its owner is
// dead (kill -9), instead of waiting for an mtime to age as proper-lockfile does (2 s at the least),
// and falls back to the age of the folder when the owner is unknown. A stale lock is broken by renaming
// it aside first, so that only one waiter can break it, and the broken copy is checked to be the one
// that was judged stale.
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

interface Owner {
  pid: number;
  host: string;
  token: string;
  at: number;
}

export interface LockOptions {
  /** Age after which a lock whose owner cannot be checked is taken as abandoned. */
  staleMs?: number;
  /** Give up after this long. */
  timeoutMs?: number;
}

const OWNER = 'owner.json';

async function readOwner(dir: string): Promise<Owner | null> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, OWNER), 'utf8')) as Owner;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError';
}

/**
 * The lock folder appears with its owner already in it (made aside, then renamed into place), and goes
 * by being renamed aside before it is removed: a process killed at any moment leaves either a whole lock,
 * which a waiter breaks at once when its owner is dead, or none — never an empty one that only ages out.
 */
async function take(dir: string, me: Owner): Promise<boolean> {
  const made = `${dir}.${me.token}.new`;
  await fs.mkdir(made);
  await fs.writeFile(path.join(made, OWNER), JSON.stringify(me));
  try {
    await fs.rename(made, dir);
    return true;
  } catch (err) {
    await fs.rm(made, { recursive: true, force: true });
    if (['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) return false;
    throw err;
  }
}

async function release(dir: string, token: string): Promise<void> {
  if ((await readOwner(dir))?.token !== token) return;
  const aside = `${dir}.${token}.old`;
  await fs.rename(dir, aside);
  await fs.rm(aside, { recursive: true, force: true });
}

/** Takes the lock on `file`; resolves to the release function. */
export async function acquireLock(file: string, opts: LockOptions = {}): Promise<() => Promise<void>> {
  const dir = `${file}.lock`;
  const staleMs = opts.staleMs ?? 10_000;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const me: Owner = { pid: process.pid, host: os.hostname(), token: randomBytes(12).toString('hex'), at: Date.now() };
  let wait = 1;
  for (let first = true; ; first = false) {
    // After the first try, only a lock that looks free is tried again (each try makes and removes a folder).
    const seen = first ? null : await fs.stat(dir).catch(() => null);
    if (!seen && (await take(dir, me))) return () => release(dir, me.token);
    const owner = await readOwner(dir);
    const stat = seen ?? (await fs.stat(dir).catch(() => null));
    if (!stat) continue; // released meanwhile
    const abandoned = owner && owner.host === me.host ? !alive(owner.pid) : Date.now() - stat.mtimeMs > staleMs;
    if (abandoned) await breakLock(dir, owner?.token ?? null);
    if (Date.now() > deadline) throw new LockTimeoutError(`the store is locked by ${owner ? `process ${owner.pid} on ${owner.host}` : 'another process'} (${dir})`);
    await sleep(wait + Math.random() * wait);
    wait = Math.min(wait * 2, 25);
  }
}

/**
 * Takes the lock at once when it is free (for a decision's fast path, about 1 ms); null when it is held,
 * and the caller waits with acquireLock. Released at once too: held for milliseconds, it cannot have been
 * judged stale and taken by another meanwhile.
 */
export function tryLockSync(file: string): (() => void) | null {
  const dir = `${file}.lock`;
  const me: Owner = { pid: process.pid, host: os.hostname(), token: randomBytes(12).toString('hex'), at: Date.now() };
  const made = `${dir}.${me.token}.new`;
  mkdirSync(made);
  writeFileSync(path.join(made, OWNER), JSON.stringify(me));
  try {
    renameSync(made, dir);
  } catch (err) {
    rmSync(made, { recursive: true, force: true });
    if (['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) return null;
    throw err;
  }
  return () => {
    const aside = `${dir}.${me.token}.old`;
    renameSync(dir, aside);
    rmSync(aside, { recursive: true, force: true });
  };
}

/**
 * Removes what processes killed while taking or releasing a lock on `file` left beside it (folders named
 * <file>.lock.<token>.new or .old whose owner has died, or older than a minute when it cannot be told).
 */
export async function sweepLockLeftovers(file: string): Promise<void> {
  const base = `${path.basename(file)}.lock.`;
  const names = await fs.readdir(path.dirname(file)).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(base) && /\.(new|old)$|\.broken\./.test(n))) {
    const dir = path.join(path.dirname(file), name);
    const owner = await readOwner(dir);
    const stat = await fs.stat(dir).catch(() => null);
    const dead = owner && owner.host === os.hostname() ? !alive(owner.pid) : !!stat && Date.now() - stat.mtimeMs > 60_000;
    if (dead) await fs.rm(dir, { recursive: true, force: true });
  }
}

async function breakLock(dir: string, judgedToken: string | null): Promise<void> {
  const aside = `${dir}.broken.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(dir, aside);
  } catch {
    return; // someone else broke or released it first
  }
  const owner = await readOwner(aside);
  if ((owner?.token ?? null) === judgedToken) {
    await fs.rm(aside, { recursive: true, force: true });
    return;
  }
  // Between our look and the rename, the dead lock was replaced by a live one: put it back.
  await fs.rename(aside, dir).catch(() => fs.rm(aside, { recursive: true, force: true }));
}

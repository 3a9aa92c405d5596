// A cross-process lock for the store: a lock folder made with mkdir (atomic), holding the owner's pid,
// host and a random token. A waiting process on the same host breaks the lock at once when its owner is
// dead (kill -9), instead of waiting for an mtime to age as proper-lockfile does (2 s at the least),
// and falls back to the age of the folder when the owner is unknown. A stale lock is broken by renaming
// it aside first, so that only one waiter can break it, and the broken copy is checked to be the one
// that was judged stale.
import { randomBytes } from 'node:crypto';
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

/** Takes the lock on `file`; resolves to the release function. */
export async function acquireLock(file: string, opts: LockOptions = {}): Promise<() => Promise<void>> {
  const dir = `${file}.lock`;
  const staleMs = opts.staleMs ?? 10_000;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const me: Owner = { pid: process.pid, host: os.hostname(), token: randomBytes(12).toString('hex'), at: Date.now() };
  let wait = 1;
  for (;;) {
    try {
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, OWNER), JSON.stringify(me));
      return async () => {
        const owner = await readOwner(dir);
        if (owner?.token === me.token) await fs.rm(dir, { recursive: true, force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(dir);
    const stat = await fs.stat(dir).catch(() => null);
    if (!stat) continue; // released meanwhile
    const abandoned = owner && owner.host === me.host ? !alive(owner.pid) : Date.now() - stat.mtimeMs > staleMs;
    if (abandoned) await breakLock(dir, owner?.token ?? null);
    if (Date.now() > deadline) throw new LockTimeoutError(`the store is locked by ${owner ? `process ${owner.pid} on ${owner.host}` : 'another process'} (${dir})`);
    await sleep(wait + Math.random() * wait);
    wait = Math.min(wait * 2, 25);
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

// Opening the embedded store: a SQLite file in WAL mode, owner and group only, checked to be a slidetriage
// store (application_id) of a schema this program knows, and brought up to date in one transaction.
import { closeSync, chmodSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ensureDir, FILE_MODE, refuseLinks } from '../files.js';
import { StoreFormatError } from '../schema.js';
import { APPLICATION_ID, SCHEMA, SCHEMA_VERSION } from './migrations.js';

export type Db = Database.Database;

/** A full disk (or a store at its size limit): the write was rolled back, and nothing was left behind. */
export class StoreFullError extends Error {
  override name = 'StoreFullError';
}

export function isFull(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'ENOSPC' || /disk is full|no space/i.test((err as Error).message ?? '');
}

/** Runs a write and says in words when the disk is full. */
export function writing<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isFull(err)) throw new StoreFullError(`the disk holding the store ${file} is full (${(err as Error).message}): nothing was saved; free some space and try again`);
    throw err;
  }
}

export interface OpenOptions {
  /** Extra pragmas, run after the store's own (tests: max_page_count, to fill the store up). */
  pragmas?: string[];
  /** How long a write waits for another process's write to finish (the wait is asynchronous: the app stays live). */
  busyMs?: number;
}

/** SQLite waits this long at a time, blocking the thread; longer waits are asynchronous retries (writeWithRetry). */
const SYNC_BUSY_MS = 25;

export class StoreBusyError extends Error {
  override name = 'StoreBusyError';
}

const isBusy = (err: unknown) => /^SQLITE_BUSY/.test((err as { code?: string }).code ?? '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a write transaction, waiting for another process's write to finish without blocking the event
 * loop: better-sqlite3 would sleep in the thread for the whole busy timeout, freezing the app's screen.
 */
export async function writeWithRetry<T>(db: Db, file: string, fn: () => T, busyMs = 10_000): Promise<T> {
  const deadline = Date.now() + busyMs;
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    try {
      return writing(file, () => db.transaction(fn).immediate());
    } catch (err) {
      if (!isBusy(err)) throw err;
      if (Date.now() > deadline) throw new StoreBusyError(`the store ${file} has been busy with another process's write for ${busyMs / 1000} s: nothing was saved; try again`);
      await sleep(wait * (0.5 + Math.random()));
    }
  }
}

function notOurs(file: string, why: string): StoreFormatError {
  return new StoreFormatError(`${file} is not a slidetriage store (${why}). Name another file in the configuration's "store", or move this one away.`);
}

/** Opens (creating if needed) the store's database and applies the migrations it lacks. */
export async function openDatabase(file: string, o: OpenOptions = {}): Promise<Db> {
  await ensureDir(path.dirname(file));
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) refuseLinks(path.dirname(file), f);
  if (!existsSync(file)) {
    closeSync(openSync(file, 'a', FILE_MODE)); // SQLite would create it with the umask's mode
    chmodSync(file, FILE_MODE);
  }
  let db: Db;
  try {
    db = new Database(file, { timeout: o.busyMs ?? 10_000 }); // opening and migrating wait as long as a write
    db.pragma('journal_mode = WAL');
  } catch (err) {
    throw notOurs(file, (err as Error).message);
  }
  try {
    db.pragma('synchronous = FULL'); // a commit is on disk when it returns: a decision acknowledged is kept
    for (const p of o.pragmas ?? []) db.pragma(p);
    migrate(db, file);
    db.pragma(`busy_timeout = ${SYNC_BUSY_MS}`);
  } catch (err) {
    db.close();
    throw err;
  }
  for (const extra of ['-wal', '-shm']) if (existsSync(file + extra)) chmodSync(file + extra, FILE_MODE);
  return db;
}

function migrate(db: Db, file: string): void {
  db.transaction(() => {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    const tables = (db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
    if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0)) throw notOurs(file, appId ? `application id ${appId.toString(16)}` : 'a SQLite database of another program');
    if (version > SCHEMA_VERSION) throw new StoreFormatError(`${file} was written by a newer slidetriage (schema ${version}; this one reads up to ${SCHEMA_VERSION})`);
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(SCHEMA[v]);
    if (appId !== APPLICATION_ID) db.pragma(`application_id = ${APPLICATION_ID}`);
    if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

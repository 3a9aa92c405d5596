// Opening the embedded store: a SQLite file in WAL mode, owner and group only, checked to be a slidetriage
// store (application_id) of a schema this program knows, and brought up to date in one transaction.
import { closeSync, chmodSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
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

/** The store's files were removed or replaced under this process: what it writes may be lost, so it writes nothing more. */
export class StoreLostError extends Error {
  override name = 'StoreLostError';
}

/**
 * Deleting `store.db-wal` (or `-shm`) while a process has the store open leaves that process writing into a
 * file nobody else reads: a second process starts a new log, and the first one's acknowledged decisions are
 * gone for good. The guard remembers the three files' identities after opening and checks them before and after
 * every write, so a write made into a removed log is reported before the technician is told it is saved.
 */
export class FileGuard {
  private readonly ids: Map<string, string>;

  constructor(private readonly file: string) {
    this.ids = new Map([file, `${file}-wal`, `${file}-shm`].map((f) => [f, FileGuard.id(f)]));
  }

  private static id(f: string): string {
    const st = statSync(f, { throwIfNoEntry: false, bigint: true });
    return st ? `${st.dev}:${st.ino}` : 'missing';
  }

  check(): void {
    for (const [f, id] of this.ids) {
      const now = FileGuard.id(f);
      if (now === id) continue;
      // A log that did not exist yet at opening may appear once.
      if (id === 'missing') {
        this.ids.set(f, now);
        continue;
      }
      throw new StoreLostError(
        `${f} was ${now === 'missing' ? 'removed' : 'replaced'} while this process had the store ${this.file} open: what it writes now would be lost, so nothing more is saved. Quit every slidetriage on this store, run \`slidetriage audit verify\`, and start again`,
      );
    }
  }
}

export interface OpenOptions {
  /** Open an existing store for reading only (status, export, audit): nothing is created or changed. */
  readOnly?: boolean;
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
export async function writeWithRetry<T>(db: Db, file: string, fn: () => T, busyMs = 10_000, guard?: FileGuard): Promise<T> {
  const deadline = Date.now() + busyMs;
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    try {
      guard?.check();
      const result = writing(file, () => db.transaction(fn).immediate());
      guard?.check();
      return result;
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

/** No store at the configured place: a read-only command has nothing to read (and creates nothing). */
export class StoreMissingError extends Error {
  override name = 'StoreMissingError';
}

/** The store file cannot be written or read by this user: its permissions, not its content. */
export class StoreAccessError extends Error {
  override name = 'StoreAccessError';
}

/**
 * Each condition said as it is. "Not a slidetriage store … move this one away" once answered a read-only
 * store, a full disk and a damaged file alike, and on a valid store of 20 decisions that advice leads to an
 * empty one: it is kept for files that are not SQLite databases, or are another program's.
 */
export function diagnose(file: string, err: unknown): Error {
  if (err instanceof StoreFormatError || err instanceof StoreMissingError || err instanceof StoreAccessError) return err;
  const code = (err as { code?: string }).code ?? '';
  const message = (err as Error).message ?? String(err);
  if (isFull(err)) return new StoreFullError(`the disk holding the store ${file} is full (${message}): nothing was changed; free some space and try again`);
  if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code) || code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new StoreAccessError(
      `the store ${file} cannot be opened for writing by this user (${message}): check the permissions of the file and its folder (0660 in a 0770 folder, for the lab's group); its content is not at fault`,
    );
  if (code === 'SQLITE_NOTADB') return notOurs(file, message);
  if (/^SQLITE_CORRUPT/.test(code))
    return new StoreFormatError(
      `the store ${file} is damaged (${message}): restore it from a backup; \`slidetriage audit verify\` names what it can still read. Do not start a new store in its place`,
    );
  return new Error(`cannot open the store ${file}: ${message}`);
}

function checkOurs(db: Db, file: string): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = (db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
  if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0)) throw notOurs(file, appId ? `application id ${appId.toString(16)}` : 'a SQLite database of another program');
  if (version > SCHEMA_VERSION) throw new StoreFormatError(`${file} was written by a newer slidetriage (schema ${version}; this one reads up to ${SCHEMA_VERSION})`);
}

/**
 * A reader of a store in WAL mode needs its `-shm` index, which SQLite creates beside the file: an auditor who
 * may only read the folder cannot. When no process has the store open (no log beside it), the file holds
 * every committed write, and is read as a copy in memory instead, marked as a rollback-journal database.
 */
function openForReading(file: string): Db {
  let db: Db | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 10_000 });
    db.pragma('user_version'); // the first read is where a missing index shows
    return db;
  } catch (err) {
    db?.close();
    const code = (err as { code?: string }).code ?? '';
    const log = statSync(`${file}-wal`, { throwIfNoEntry: false });
    if (!/^SQLITE_(READONLY|CANTOPEN)/.test(code) || (log && log.size > 0)) throw err;
    const bytes = readFileSync(file);
    bytes[18] = 1; // the file format's write and read versions: 1 is the rollback journal, 2 WAL
    bytes[19] = 1;
    return new Database(bytes, { readonly: true });
  }
}

/** Opens an existing store for reading only: status, export and audit never create or change one. */
export function openDatabaseReadOnly(file: string): Db {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}.heads`]) refuseLinks(path.dirname(file), f);
  if (!existsSync(file)) throw new StoreMissingError(`no store at ${file}: nothing to read (the app, or \`slidetriage scan\`, creates one)`);
  let db: Db;
  try {
    db = openForReading(file);
    checkOurs(db, file);
  } catch (err) {
    throw diagnose(file, err);
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version < SCHEMA_VERSION) {
    db.close();
    throw new StoreFormatError(`${file} was written by an earlier slidetriage (schema ${version}): start the app or \`slidetriage scan\` once to bring it up to date, then read it`);
  }
  return db;
}

/** Opens (creating if needed) the store's database and applies the migrations it lacks. */
export async function openDatabase(file: string, o: OpenOptions = {}): Promise<Db> {
  await ensureDir(path.dirname(file));
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`, `${file}.heads`]) refuseLinks(path.dirname(file), f);
  try {
    if (!existsSync(file)) {
      closeSync(openSync(file, 'a', FILE_MODE)); // SQLite would create it with the umask's mode
      chmodSync(file, FILE_MODE);
    }
  } catch (err) {
    throw diagnose(file, err);
  }
  let db: Db;
  try {
    db = new Database(file, { timeout: o.busyMs ?? 10_000 }); // opening and migrating wait as long as a write
    db.pragma('journal_mode = WAL');
  } catch (err) {
    throw diagnose(file, err);
  }
  try {
    db.pragma('synchronous = FULL'); // a commit is on disk when it returns: a decision acknowledged is kept
    // 64 MB of page cache (SQLite's default is 2 MB): the queue's indexes at a million slides are 1–2 GB, and
    // a large import or the whole journal check otherwise reads the same pages again and again.
    db.pragma('cache_size = -65536');
    for (const p of o.pragmas ?? []) db.pragma(p);
    migrate(db, file);
    db.pragma(`busy_timeout = ${SYNC_BUSY_MS}`);
  } catch (err) {
    db.close();
    throw diagnose(file, err);
  }
  for (const extra of ['-wal', '-shm']) if (existsSync(file + extra)) chmodSync(file + extra, FILE_MODE);
  return db;
}

function migrate(db: Db, file: string): void {
  db.transaction(() => {
    checkOurs(db, file);
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(SCHEMA[v]);
    if (appId !== APPLICATION_ID) db.pragma(`application_id = ${APPLICATION_ID}`);
    if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

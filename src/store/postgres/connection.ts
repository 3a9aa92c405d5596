// Connecting to the PostgreSQL store: a pool for `store: postgres://user@host:port/db` (the password from
// PGPASSWORD or ~/.pgpass, never from the configuration), the schema checked and migrated, and write
// transactions that wait out a restart of the server.
import pg from 'pg';
import { StoreFormatError } from '../schema.js';
import { MIGRATION_LOCK, PG_SCHEMA, PG_SCHEMA_VERSION } from './schema.js';

/** BIGINT and COUNT come back as numbers (they stay far below 2^53 here). */
const types = { getTypeParser: (oid: number, format?: string) => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) };

export const isPostgresAddress = (s: string) => /^postgres(ql)?:\/\//.test(s);

/** The address without credentials, for messages. */
export function displayAddress(url: string): string {
  const u = new URL(url);
  u.password = '';
  return u.toString();
}

export function openPool(url: string): pg.Pool {
  if (new URL(url).password) throw new StoreFormatError(`the store's address holds a password: leave it out of the configuration and set PGPASSWORD, or put it in ~/.pgpass`);
  // A query lost in a server restart gives up after 30 s (and its transaction is tried again) rather than hang.
  const pool = new pg.Pool({ connectionString: url, types, max: 4, connectionTimeoutMillis: 5_000, query_timeout: 30_000 });
  // An idle connection the server closed (a restart) is replaced at the next query; never a crash.
  pool.on('error', () => undefined);
  return pool;
}

/** Errors after which the same transaction may be tried again: the server restarting, a lost connection, a conflict. */
export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return (
    ['57P01', '57P02', '57P03', '08000', '08003', '08006', '40001', '40P01', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(code) ||
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout/.test((err as Error).message ?? '')
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs fn in one transaction. A failure before COMMIT was sent (the server restarting, a conflict) rolls
 * back and tries again for up to `waitMs`; a failure of the COMMIT itself is reported, never retried, as
 * the server may have committed it.
 */
export async function transaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>, waitMs = 30_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    let client: pg.PoolClient | null = null;
    let committing = false;
    // A connection the server cuts while it is checked out reports the error here, and its query fails: never a crash.
    const ignore = () => undefined;
    try {
      client = await pool.connect();
      client.on('error', ignore);
      await client.query('BEGIN');
      const result = await fn(client);
      committing = true;
      await client.query('COMMIT');
      client.off('error', ignore);
      client.release();
      return result;
    } catch (err) {
      client?.off('error', ignore);
      if (client && isRetryable(err))
        client.release(err as Error); // a broken connection is not reused
      else if (client) {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release();
      }
      if (committing && isRetryable(err))
        throw new Error(`the connection to the store was lost during the commit, so it may or may not have been saved: look at the slide again once the store answers (${(err as Error).message})`);
      if (committing || !isRetryable(err) || Date.now() > deadline) throw err;
      await sleep(wait);
    }
  }
}

/** Checks that the database holds a slidetriage store (or nothing of anyone's) and brings its schema up to date. */
export async function migrate(pool: pg.Pool, where: string): Promise<void> {
  await transaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const ours = (await c.query("SELECT to_regclass('slidetriage_schema') AS t")).rows[0].t;
    const theirs = (await c.query("SELECT to_regclass('slides') AS s, to_regclass('journal') AS j")).rows[0];
    if (!ours && (theirs.s || theirs.j)) throw new StoreFormatError(`${where} holds tables of another program (slides, journal): name another database for the store`);
    if (!ours) await c.query('CREATE TABLE slidetriage_schema (version INTEGER NOT NULL); INSERT INTO slidetriage_schema VALUES (0)');
    const version = (await c.query('SELECT version FROM slidetriage_schema')).rows[0].version as number;
    if (version > PG_SCHEMA_VERSION) throw new StoreFormatError(`${where} was written by a newer slidetriage (schema ${version}; this one reads up to ${PG_SCHEMA_VERSION})`);
    for (let v = version; v < PG_SCHEMA_VERSION; v++) await c.query(PG_SCHEMA[v]);
    await c.query('UPDATE slidetriage_schema SET version = $1', [PG_SCHEMA_VERSION]);
  });
}

// Stores for tests: each implementation of the SlideStore interface, opened on a fresh place, with slides,
// and what the conformance suite needs to look at and damage each from outside (another connection).
import fs from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../../src/store/store.js';
import type { OpenOptions } from '../../src/store/sqlite/connection.js';
import type { Identity, SlideStore } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';
import { startPostgres, type PgServer } from './postgres.js';

export const shaOf = (i: number) => i.toString(16).padStart(64, '0');

/** A store implementation as the conformance suite sees it. */
export interface StoreKind {
  name: string;
  /** A new, empty place for a store (a file, or a database address). */
  fresh(): Promise<string>;
  open(location: string, identity?: Identity, o?: OpenOptions): Promise<SlideStore>;
  /** Rows of a query, through a connection of its own. */
  peek(location: string, sql: string): Promise<unknown[]>;
  /** Runs statements through a connection of its own (throws what the database says). */
  exec(location: string, sql: string): Promise<void>;
  /** A copy of a closed store, at a new place. */
  copy(location: string): Promise<string>;
  /** SQL that lifts the journal's append-only protection (as someone with the database's password could). */
  unprotect: string;
  /** Makes `location` a database of another program, and the error opening it says. */
  foreign(location: string): Promise<RegExp>;
  /** SQL that marks the store as written by a newer slidetriage. */
  newer: string;
}

const tester = { technician: 'tester', displayName: 'Test Er' };

export const SQLITE: StoreKind = {
  name: 'SQLite',
  fresh: async () => path.join(await tempDir(), 'data', 'store.db'),
  open: (location, identity = tester, o) => openStore(location, identity, o),
  async peek(location, sql) {
    const db = new Database(location, { readonly: true });
    try {
      return db.prepare(sql).all();
    } finally {
      db.close();
    }
  },
  async exec(location, sql) {
    const db = new Database(location);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  },
  async copy(location) {
    const file = `${location}.${Math.random().toString(36).slice(2)}.db`;
    const db = new Database(location);
    await db.backup(file);
    db.close();
    // The journal's heads, kept beside the database, go with it.
    await fs.copyFile(`${location}.heads`, `${file}.heads`).catch(() => undefined);
    return file;
  },
  unprotect: 'DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete',
  async foreign(location) {
    await fs.mkdir(path.dirname(location), { recursive: true });
    await this.exec(location, 'CREATE TABLE recipes (name TEXT)');
    return /is not a slidetriage store \(a SQLite database of another program\)/;
  },
  newer: 'PRAGMA user_version = 99',
};

async function onPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export function postgresKind(server: PgServer): StoreKind {
  return {
    name: 'PostgreSQL',
    fresh: () => server.database(),
    open: (location, identity = tester) => openStore(location, identity),
    peek: (url, sql) => onPg(url, async (c) => (await c.query(sql)).rows),
    exec: (url, sql) => onPg(url, async (c) => void (await c.query(sql))),
    async copy(url) {
      const copy = await server.database();
      const [from, to] = [new URL(url).pathname.slice(1), new URL(copy).pathname.slice(1)];
      await onPg(copy.replace(`/${to}`, '/postgres'), async (c) => {
        await c.query(`DROP DATABASE ${to}`);
        await c.query(`CREATE DATABASE ${to} TEMPLATE ${from}`);
      });
      return copy;
    },
    unprotect: 'DROP TRIGGER journal_append_only ON journal',
    async foreign(url) {
      await this.exec(url, 'CREATE TABLE slides (recipe TEXT)');
      return /holds tables of another program/;
    },
    newer: 'UPDATE slidetriage_schema SET version = 99',
  };
}

/**
 * The implementations to test: SQLite, and PostgreSQL on a throw-away server. Where PostgreSQL cannot start,
 * CI fails with the reason; elsewhere its tests are left out, saying why.
 */
export async function storeKinds(): Promise<{ kinds: StoreKind[]; stop(): void }> {
  const server = await startPostgres();
  if ('error' in server) {
    if (process.env.CI) throw new Error(`the PostgreSQL store's tests cannot run: ${server.error}`);
    console.warn(`PostgreSQL store tests left out: ${server.error}`);
    return { kinds: [SQLITE], stop: () => undefined };
  }
  return { kinds: [SQLITE, postgresKind(server)], stop: () => server.stop() };
}

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

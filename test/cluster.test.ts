// Several machines, simulated on this one (issue #21): an ingest and two engine hosts as separate
// processes, each with its own host name, on a throw-away PostgreSQL server. Every slide is classified
// exactly once, an engine host killed with kill -9 in the middle of its work loses no slide, and two
// technicians deciding at once through a restart of the server lose no acknowledged decision.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, tempDir } from './helpers.js';
import { cli } from './support/cli.js';
import { startPostgres, type PgServer } from './support/postgres.js';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'slidetriage.js');
const DESK = path.join(import.meta.dirname, 'scripts', 'desk.ts');
const server = await startPostgres();
if ('error' in server && process.env.CI) throw new Error(`the engine hosts' tests cannot run: ${server.error}`);
if ('error' in server) console.warn(`engine host tests left out: ${server.error}`);
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  if (!('error' in server)) server.stop();
});

/** n distinct small images (noise), named by number. */
async function images(dir: string, n: number, first = 0): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (let i = first; i < first + n; i++) {
    const data = Buffer.alloc(32 * 32 * 3);
    for (let k = 0; k < data.length; k++) data[k] = (k * 31 + i * 977 + ((k * i) % 251)) % 256;
    await sharp(data, { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(path.join(dir, `cell-${i}.png`));
  }
}

/** A process of the lab with its own host name; its stderr goes to $SLIDETRIAGE_TEST_LOG when set. */
function labProcess(args: string[], cwd: string, host: string): ChildProcess {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, SLIDETRIAGE_HOST: host }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => process.env.SLIDETRIAGE_TEST_LOG && void fs.appendFile(process.env.SLIDETRIAGE_TEST_LOG, `${host}: ${d}`));
  children.push(child);
  return child;
}

const engineHost = (cwd: string, host: string) => labProcess([BIN, 'engine', 'serve'], cwd, host);

/** A technician's workstation (test/scripts/desk.ts): confirms predicted slides until `total` are labelled. */
function desk(url: string, name: string, total: number) {
  // Run from the checkout, where `--import tsx` resolves.
  const child = labProcess(['--import', 'tsx', DESK, url, name, String(total)], path.dirname(import.meta.dirname), name);
  const acks: string[] = [];
  const retries: string[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    acks.push(...[...d.toString().matchAll(/^ack (\w+)$/gm)].map((m) => m[1]));
    retries.push(...[...d.toString().matchAll(/^retry (.*)$/gm)].map((m) => m[1]));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { acks, retries, exited };
}

/** A lab in a folder of its own: a database on the server, the configuration, a model. */
async function lab(pgServer: PgServer): Promise<{ cwd: string; url: string }> {
  const cwd = await tempDir();
  const url = await pgServer.database();
  const model = path.join(cwd, 'model');
  await makeBundle(model, { size: 32 });
  const config = { store: url, model, cluster: { jobTimeoutSeconds: 4, sharedFolder: './shared' }, explain: { slideMethods: ['cam'] }, predict: { tta: false } };
  await fs.writeFile(path.join(cwd, 'slidetriage.json'), JSON.stringify(config));
  return { cwd, url };
}

/** Counting queries on the lab's database, and waiting for a condition with what the queue holds when it times out. */
function watch(db: pg.Client) {
  const count = async (sql: string) => Number((await db.query(sql)).rows[0].n);
  const predicted = () => count('SELECT COUNT(*) AS n FROM predictions');
  const until = async (cond: () => Promise<boolean>, ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await cond().catch(() => false)) return;
    const jobs = (await db.query("SELECT state, COUNT(*) AS n FROM slidetriage_jobs.job WHERE name = 'classify' GROUP BY state")).rows.map((r) => `${r.state} ${r.n}`);
    throw new Error(`not in ${ms} ms: ${await predicted()} predictions; jobs: ${jobs.join(', ')}`);
  };
  return { count, predicted, until };
}

async function connect(url: string): Promise<pg.Client> {
  const db = new pg.Client(url);
  db.on('error', () => undefined);
  await db.connect();
  return db;
}

describe.skipIf('error' in server)('engine hosts on a PostgreSQL store', () => {
  const pgServer = server as PgServer;
  let cwd: string;
  let url: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    ({ cwd, url } = await lab(pgServer));
  });

  it('200 slides are each classified exactly once by two hosts; one killed with kill -9 mid-work loses none', async () => {
    await images(path.join(cwd, 'incoming'), 200);
    const ingest = await cli(cwd, ['ingest', 'serve', '--once']);
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(ingest.stdout).toMatch(/enqueued 200 slide\(s\)/);
    // The engine hosts find each image by its sha256 in the shared folder, not in the ingest's incoming folder.
    await fs.rm(path.join(cwd, 'incoming'), { recursive: true });
    expect((await fs.readdir(path.join(cwd, 'shared', 'slides'))).length).toBeGreaterThan(0);
    const db = await connect(url);
    try {
      const { count, predicted, until } = watch(db);
      const [a, b] = [engineHost(cwd, 'host-a'), engineHost(cwd, 'host-b')];
      await until(async () => (await count('SELECT COUNT(DISTINCT host) AS n FROM predictions')) === 2 && (await predicted()) >= 60, 120_000);
      // host-a paused, host-b killed with kill -9 while it holds a job (one it started after the pause).
      const paused = new Date();
      a.kill('SIGSTOP');
      await until(async () => (await db.query("SELECT 1 FROM slidetriage_jobs.job WHERE name = 'classify' AND state = 'active' AND started_on > $1", [paused])).rowCount! > 0, 30_000);
      b.kill('SIGKILL');
      a.kill('SIGCONT');
      await until(async () => (await predicted()) === 200, 120_000);
      expect((await db.query('SELECT sha256 FROM predictions GROUP BY sha256, model_id HAVING COUNT(*) > 1')).rows).toEqual([]);
      const byHost = Object.fromEntries((await db.query('SELECT host, COUNT(*) AS n FROM predictions GROUP BY host')).rows.map((r) => [r.host, Number(r.n)]));
      expect(Object.keys(byHost).sort()).toEqual(['host-a', 'host-b']);
      // The job host-b held when it died expired (after jobTimeoutSeconds) and was done again, by host-a.
      await until(async () => (await count("SELECT COUNT(*) AS n FROM slidetriage_jobs.job WHERE name = 'classify' AND state < 'completed'")) === 0, 30_000);
      expect(await count("SELECT COUNT(*) AS n FROM slidetriage_jobs.job WHERE name = 'classify' AND retry_count > 0 AND state = 'completed'")).toBeGreaterThan(0);
      const status = await cli(cwd, ['status']);
      expect(status.stdout, status.stderr).toMatch(/jobs: 0 waiting, 0 being classified/);
      expect(status.stdout).toMatch(/engine hosts alive: .*host-a \(pid \d+, test-untrained@/);
      a.kill('SIGTERM');
      await new Promise((r) => a.once('exit', r));
    } finally {
      await db.end().catch(() => undefined);
    }
  }, 300_000);

  it('two technicians decide while two hosts classify, through a restart of PostgreSQL: no acknowledged decision is lost, the journal verifies', async () => {
    const { cwd, url } = await lab(pgServer);
    const total = 100;
    await images(path.join(cwd, 'incoming'), total, 1000);
    expect((await cli(cwd, ['ingest', 'serve', '--once'])).stdout).toMatch(`enqueued ${total} slide(s)`);
    const hosts = [engineHost(cwd, 'host-c'), engineHost(cwd, 'host-d')];
    const desks = [desk(url, 'desk-1', total), desk(url, 'desk-2', total)];
    let db = await connect(url);
    const { count, predicted, until } = watch(db);
    await until(async () => (await count('SELECT COUNT(*) AS n FROM journal')) >= 5 && (await predicted()) >= 20, 120_000);
    const predictedBefore = await predicted();
    await db.end();
    const ackedBefore = desks.map((d) => d.acks.length);
    pgServer.restart(); // connections cut in the middle of classifying and deciding
    const codes = await Promise.race([Promise.all(desks.map((d) => d.exited)), new Promise((r) => setTimeout(() => r('timed out'), 150_000))]);
    db = await connect(url);
    try {
      const { count, predicted } = watch(db);
      expect(codes, `${await predicted()} predicted, ${await count('SELECT COUNT(*) AS n FROM journal')} decided`).toEqual([0, 0]);
      expect(await predicted()).toBe(total);
      expect((await db.query('SELECT sha256 FROM predictions GROUP BY sha256, model_id HAVING COUNT(*) > 1')).rows).toEqual([]);
      const journal = (await db.query('SELECT sha256, technician FROM journal')).rows as Array<{ sha256: string; technician: string }>;
      const decided = new Set(journal.map((e) => e.sha256));
      for (const sha of desks.flatMap((d) => d.acks)) expect(decided.has(sha), sha).toBe(true);
      expect(new Set(journal.map((e) => e.technician))).toEqual(new Set(['desk-1', 'desk-2']));
      expect(decided.size).toBe(total);
      // The restart came in mid-work: the hosts had not finished, and both desks went on deciding after it.
      // Calls in flight at that moment fail and are tried again; the pool replaces idle connections without
      // a failed call, so a restart between two polls is felt by none (seen once in four CI runs): logged.
      console.info(`calls tried again after the restart: ${desks.flatMap((d) => d.retries).length}`);
      desks.forEach((d, i) => expect(d.acks.length).toBeGreaterThan(ackedBefore[i]));
      expect(predictedBefore, 'the engine hosts had finished before the restart').toBeLessThan(total);
      const audit = await cli(cwd, ['audit', 'verify']);
      expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    } finally {
      for (const h of hosts) h.kill('SIGTERM');
      await db.end().catch(() => undefined);
    }
  }, 300_000);
});

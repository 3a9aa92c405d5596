// Several machines, simulated on this one (issue #21): an ingest and two engine hosts as separate
// processes, each with its own host name, on a throw-away PostgreSQL server. Every slide is classified
// exactly once, and an engine host killed with kill -9 in the middle of its work loses no slide.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, tempDir } from './helpers.js';
import { cli } from './support/cli.js';
import { startPostgres } from './support/postgres.js';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'slidetriage.js');
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

function engineHost(cwd: string, host: string): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'engine', 'serve'], { cwd, env: { ...process.env, SLIDETRIAGE_HOST: host }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => process.env.SLIDETRIAGE_TEST_LOG && void fs.appendFile(process.env.SLIDETRIAGE_TEST_LOG, `${host}: ${d}`));
  children.push(child);
  return child;
}

describe.skipIf('error' in server)('engine hosts on a PostgreSQL store', () => {
  const pgServer = server as Exclude<typeof server, { error: string }>;
  let cwd: string;
  let url: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    cwd = await tempDir();
    url = await pgServer.database();
    const model = path.join(cwd, 'model');
    await makeBundle(model, { size: 32 });
    const config = { store: url, model, cluster: { jobTimeoutSeconds: 4, sharedFolder: './shared' }, explain: { slideMethods: ['cam'] }, predict: { tta: false } };
    await fs.writeFile(path.join(cwd, 'slidetriage.json'), JSON.stringify(config));
  });

  it('200 slides are each classified exactly once by two hosts; one killed with kill -9 mid-work loses none', async () => {
    await images(path.join(cwd, 'incoming'), 200);
    const ingest = await cli(cwd, ['ingest', 'serve', '--once']);
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(ingest.stdout).toMatch(/enqueued 200 slide\(s\)/);
    // The engine hosts find each image by its sha256 in the shared folder, not in the ingest's incoming folder.
    await fs.rm(path.join(cwd, 'incoming'), { recursive: true });
    expect((await fs.readdir(path.join(cwd, 'shared', 'slides'))).length).toBeGreaterThan(0);
    const db = new pg.Client(url);
    db.on('error', () => undefined);
    await db.connect();
    try {
      const count = async (sql: string) => Number((await db.query(sql)).rows[0].n);
      const predicted = () => count('SELECT COUNT(*) AS n FROM predictions');
      const until = async (cond: () => Promise<boolean>, ms: number) => {
        for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await cond()) return;
        const jobs = (await db.query("SELECT state, COUNT(*) AS n FROM slidetriage_jobs.job WHERE name = 'classify' GROUP BY state")).rows.map((r) => `${r.state} ${r.n}`);
        throw new Error(`not in ${ms} ms: ${await predicted()} predictions; jobs: ${jobs.join(', ')}`);
      };
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
});

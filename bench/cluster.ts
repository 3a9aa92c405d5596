// npm run bench:cluster: engine hosts on PostgreSQL, on this machine. Classification throughput with 1, 2
// and 4 `engine serve` processes (ONNX Runtime, one thread each) against the single-process app in the
// same run; the queue's overhead per job; a decision through PostgreSQL at 100,000 slides. Needs
// PostgreSQL (Debian's postgresql package): a throw-away server is started and stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { EngineClient } from '../src/engine/client.js';
import { Predictor } from '../src/app/predictor.js';
import { CLASSIFY, enqueueSlides, openJobs } from '../src/cluster/jobs.js';
import { openStore } from '../src/store/store.js';
import type { SlideStore } from '../src/store/types.js';
import { startPostgres, type PgServer } from '../test/support/postgres.js';
import { tempDir } from '../test/helpers.js';

const N_SLIDES = Number(process.argv[2] ?? 96);
const BIN = path.resolve('bin/slidetriage.js');
const who = { technician: 'bench', displayName: null };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1];

/** A working folder with N distinct Taleqani images (files with the same bytes counted once) in incoming/. */
async function workFolder(store: string): Promise<{ cwd: string; slides: Array<{ sha256: string; path: string }> }> {
  const cwd = await tempDir('slidetriage-bench-cluster-');
  const incoming = path.join(cwd, 'incoming');
  await fs.mkdir(incoming, { recursive: true });
  const root = path.resolve('../shared/data/taleqani');
  const slides = new Map<string, string>();
  for (const cls of ['Benign', 'Early', 'Pre', 'Pro'])
    for (const name of await fs.readdir(path.join(root, cls)).catch(() => [] as string[])) {
      if (slides.size >= N_SLIDES) break;
      const bytes = await fs.readFile(path.join(root, cls, name));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (slides.has(sha256)) continue;
      await fs.writeFile(path.join(incoming, name), bytes);
      slides.set(sha256, name);
    }
  if (slides.size < N_SLIDES) throw new Error(`bench:cluster reads ${N_SLIDES} distinct images from ${root}`);
  await fs.writeFile(path.join(cwd, 'slidetriage.json'), JSON.stringify({ store, threads: 1, runtime: 'onnx', predict: { tta: false } }));
  return { cwd, slides: [...slides].map(([sha256, p]) => ({ sha256, path: p })) };
}

async function seed(store: SlideStore, slides: Array<{ sha256: string; path: string }>): Promise<void> {
  await store.importRecords({ slides: slides.map((s) => ({ ...s, width: 224, height: 224, addedAt: new Date().toISOString() })) });
}

/** The single-process app: its predictor over the slides, one engine worker with one thread. */
async function singleProcess(): Promise<number> {
  const dir = await tempDir('slidetriage-bench-single-');
  const { cwd, slides } = await workFolder(path.join(dir, 'store.db'));
  const config = loadConfig({ cwd });
  const store = await openStore(config.store, who);
  await seed(store, slides);
  const engine = new EngineClient();
  await engine.call('init', { backend: config.backend, threads: 1, runtime: 'onnx', onnxProvider: config.onnxProvider });
  const model = await engine.call('load', { modelDir: config.model });
  const predictor = new Predictor(config, engine, store, model);
  const t0 = performance.now();
  await predictor.kick();
  const perSecond = slides.length / ((performance.now() - t0) / 1000);
  predictor.stop();
  await Promise.all([engine.close(), store.close()]);
  return perSecond;
}

async function untilCount(db: pg.Client, sql: string, n: number, ms = 600_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (Number((await db.query(sql)).rows[0].n) >= n) return;
  throw new Error(`timed out waiting for ${n}: ${sql}`);
}

/** N engine hosts: started and their models loaded first, then the slides enqueued and timed to the last prediction. */
async function hosts(server: PgServer, n: number): Promise<number> {
  const url = await server.database();
  const { cwd, slides } = await workFolder(url);
  const store = await openStore(url, who);
  // The slides are recorded once the hosts are up (a host enqueues what it finds unpredicted when it starts).
  const children: ChildProcess[] = Array.from({ length: n }, (_, k) =>
    spawn(process.execPath, [BIN, 'engine', 'serve'], { cwd, env: { ...process.env, SLIDETRIAGE_HOST: `bench-${k}` }, stdio: 'ignore' }),
  );
  const db = new pg.Client(url);
  await db.connect();
  try {
    await untilCount(db, 'SELECT COUNT(*) AS n FROM engine_hosts', n);
    await seed(store, slides);
    const boss = await openJobs(url, { jobTimeoutSeconds: 60 });
    const t0 = performance.now();
    await enqueueSlides(
      boss,
      slides.map((s) => s.sha256),
    );
    await untilCount(db, 'SELECT COUNT(*) AS n FROM predictions', slides.length);
    const perSecond = slides.length / ((performance.now() - t0) / 1000);
    await boss.stop({ graceful: false, wait: true });
    return perSecond;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await db.end();
    await store.close();
  }
}

/** The queue's own cost: empty jobs sent and worked in this process, per job. */
async function queueOverhead(server: PgServer, jobs = 300): Promise<number> {
  const url = await server.database();
  (await openStore(url, who)).close();
  const boss = await openJobs(url, { jobTimeoutSeconds: 60 });
  const shas = Array.from({ length: jobs }, (_, i) => `job-${i}`);
  let done = 0;
  let worker = '';
  const t0 = performance.now();
  await enqueueSlides(boss, shas);
  await new Promise<void>((resolve) => {
    void boss
      .work(CLASSIFY, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async () => {
        if (++done === jobs) resolve();
        boss.notifyWorker(worker);
      })
      .then((id) => (worker = id));
  });
  const ms = (performance.now() - t0) / jobs;
  await boss.stop({ graceful: false, wait: true });
  return ms;
}

/** Decisions through PostgreSQL on a store of `n` slides. */
async function decisions(server: PgServer, n = 100_000): Promise<number[]> {
  const store = await openStore(await server.database(), who);
  const shaOf = (i: number) => i.toString(16).padStart(64, '0');
  for (let from = 0; from < n; from += 5000)
    await store.importRecords({ slides: Array.from({ length: Math.min(5000, n - from) }, (_, k) => ({ sha256: shaOf(from + k), path: `s${from + k}.jpg`, width: 224, height: 224, addedAt: '' })) });
  const ms: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await store.decide({ sha256: shaOf(i * 397), action: 'confirm', label: 'Pro', modelId: 'm', predicted: 'Pro', probabilities: { Pro: 0.9 } });
    ms.push(performance.now() - t);
  }
  await store.close();
  return ms;
}

const server = await startPostgres();
if ('error' in server) throw new Error(server.error);
try {
  const single = await singleProcess();
  console.log(`| engine | slides/s | against the single-process app |\n|---|---|---|\n| single-process app (its predictor, 1 thread) | ${single.toFixed(1)} | 1.00 |`);
  for (const n of [1, 2, 4]) {
    const rate = await hosts(server, n);
    console.log(`| ${n} × engine serve (1 thread each) | ${rate.toFixed(1)} | ${(rate / single).toFixed(2)} |`);
  }
  console.log(`\n${N_SLIDES} Taleqani slides at 224 px, default model, no TTA, the slide methods' maps; this machine has 2 cores.`);
  console.log(`queue overhead per job (send, fetch, complete; empty jobs): ${(await queueOverhead(server)).toFixed(1)} ms (goal ≤ 10 ms)`);
  const ms = await decisions(server);
  console.log(`a decision through PostgreSQL on localhost at 100,000 slides: median ${median(ms).toFixed(1)} ms, p95 ${p95(ms).toFixed(1)} ms (goal: median ≤ 10 ms)`);
} finally {
  server.stop();
}

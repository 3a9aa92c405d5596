// The services of a lab with several machines (README, "Several machines"): `engine serve` classifies the
// slides that `ingest serve` enqueues, on a PostgreSQL store; both stop cleanly on SIGINT/SIGTERM.
import fs from 'node:fs/promises';
import type { Config } from '../config.js';
import { storeFolder } from '../config.js';
import { classifySlide } from '../app/predictor.js';
import { aliveHosts, heartbeat, leaveHosts } from '../cluster/hosts.js';
import { CLASSIFY, enqueueSlides, openJobs, queueDepth, type ClassifyJob } from '../cluster/jobs.js';
import { hostName } from '../core/host.js';
import { EngineClient } from '../engine/client.js';
import { IncomingWatcher } from '../ingest/watcher.js';
import { isPostgresAddress, openPool } from '../store/postgres/connection.js';
import { keepSlideCopy, slideCopiesDir } from '../store/slide-copies.js';
import { currentIdentity, openStore } from '../store/store.js';
import type { Output } from './output.js';

const untilSignal = () => new Promise<void>((resolve) => ['SIGINT', 'SIGTERM'].forEach((s) => process.once(s, () => resolve())));

function needsPostgres(config: Config, what: string, out: Output): boolean {
  if (isPostgresAddress(config.store)) return true;
  out.error(`${what} shares its work through a PostgreSQL store: set "store" to postgres://user@host/db (README, "Several machines")`);
  return false;
}

/** Takes classification jobs until stopped; each slide's prediction is recorded with this host's name. */
export async function runEngineServe(config: Config, out: Output): Promise<number> {
  if (!needsPostgres(config, 'engine serve', out)) return 2;
  const store = await openStore(config.store, currentIdentity(config.technicianName));
  const pool = openPool(config.store);
  const engine = new EngineClient();
  await engine.call('init', { backend: config.backend, threads: config.threads, runtime: config.runtime, onnxProvider: config.onnxProvider });
  const model = await engine.call('load', { modelDir: config.model });
  const boss = await openJobs(config.store, config.cluster);
  const started = new Date().toISOString();
  let done = 0;
  await heartbeat(pool, model.id, done, started);
  const beat = setInterval(() => void heartbeat(pool, model.id, done, started).catch(() => undefined), 5_000);
  // One job at a time (a host that dies loses one), fetched again at once after each: pg-boss would
  // otherwise wait out its polling interval between jobs.
  let worker = '';
  worker = await boss.work<ClassifyJob>(CLASSIFY, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
    const slide = await store.slide(job.data.sha256);
    if (slide && !(await store.predictionsOf(slide.sha256)).some((p) => p.modelId === model.id)) {
      await store.addPrediction(slide.sha256, await classifySlide(config, engine, model, slide));
      done++;
    }
    boss.notifyWorker(worker);
  });
  // A safety net for enqueues that never happened (an ingest that failed to send, slides from before the
  // hosts): every slide still without this model's prediction is enqueued, once a minute (one job a slide).
  const sweep = () =>
    store
      .unpredicted(model.id, 10_000)
      .then((slides) =>
        enqueueSlides(
          boss,
          slides.map((s) => s.sha256),
        ),
      )
      .catch(() => 0);
  await sweep();
  const sweeping = setInterval(() => void sweep(), 60_000);
  out.info(`engine host ${hostName()} (pid ${process.pid}) serves ${model.id}: taking classification jobs; Ctrl-C stops`);
  await untilSignal();
  clearInterval(beat);
  clearInterval(sweeping);
  await boss.stop({ graceful: true, wait: true, timeout: 30_000 });
  await leaveHosts(pool).catch(() => undefined);
  await Promise.all([engine.close(), store.close(), pool.end()]);
  out.info(`engine host stopped after ${done} slide(s)`);
  return 0;
}

/** Watches the incoming folder and enqueues each new slide once (`once`: one pass, then exits). */
export async function runIngestServe(config: Config, once: boolean, out: Output): Promise<number> {
  if (!needsPostgres(config, 'ingest serve', out)) return 2;
  await fs.mkdir(config.incoming, { recursive: true });
  const store = await openStore(config.store, currentIdentity(config.technicianName));
  const boss = await openJobs(config.store, config.cluster);
  const copies = slideCopiesDir(storeFolder(config));
  const watcher = new IncomingWatcher(config.incoming, store, config.images, { retryLimit: 10, rescanMs: once ? undefined : 60_000, keep: (sha, bytes) => keepSlideCopy(copies, sha, bytes) });
  let enqueued = 0;
  let sending = Promise.resolve();
  watcher.on('warning', (m) => out.info(`warning: ${m}`));
  watcher.on('recorded', (entries) => {
    const shas = entries.filter((e) => e.state === 'queued' && e.sha256).map((e) => e.sha256!);
    sending = sending.then(async () => void (enqueued += await enqueueSlides(boss, shas))).catch((err: Error) => out.error(`cannot enqueue: ${err.message}`));
  });
  watcher.start();
  out.info(`ingest on ${hostName()}: watching ${config.incoming}`);
  await (once ? watcher.whenIdle() : untilSignal());
  await watcher.stop();
  await sending;
  const depth = await queueDepth(boss);
  out.stdout(`enqueued ${enqueued} slide(s); ${depth.waiting} waiting, ${depth.active} being classified`);
  await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  await store.close();
  return 0;
}

/** The lines `slidetriage status` adds for a PostgreSQL store: the queue and the engine hosts alive. */
export async function clusterStatus(config: Config): Promise<{ waiting: number; active: number; hosts: Awaited<ReturnType<typeof aliveHosts>> }> {
  const pool = openPool(config.store);
  const boss = await openJobs(config.store, config.cluster);
  try {
    return { ...(await queueDepth(boss)), hosts: await aliveHosts(pool) };
  } finally {
    await boss.stop({ graceful: false, wait: true, timeout: 5_000 });
    await pool.end();
  }
}

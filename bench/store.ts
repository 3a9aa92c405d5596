// npm run bench:store [-- 1000,100000,1000000] [--store postgres://… | --store pg]: the store at a year
// of slides (issue #37). For each size a synthetic store (one file and one prediction per slide, a third
// labelled through hash-chained journal entries) is built in a few large imports, and what the app and the
// commands do is timed: open, the first window of the queue in every sort and filter the app offers, the
// window around a slide half-way down, the status counts, the change poll, a decision, a lease.
// `--store pg` runs against a throw-away PostgreSQL server, as the tests start one. `--model-id ID` gives the
// predictions that model's id (the app's, to try the app on the store: BENCH_KEEP=1 keeps it).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { entryHash, type JournalEntry } from '../src/store/journal.js';
import { assertStoreIntact } from '../src/store/integrity.js';
import { openStore } from '../src/store/store.js';
import type { QueueQuery, SlideStore, StoreRecords } from '../src/store/types.js';

const args = process.argv.slice(2);
const storeArg = args.includes('--store') ? args[args.indexOf('--store') + 1] : null;
const sizes = (args.find((a, i) => !a.startsWith('--') && !['--store', '--model-id'].includes(args[i - 1])) ?? '1000,10000,100000').split(',').map(Number);
const CLASSES = ['Benign', 'Early', 'Pre', 'Pro'];
const MODEL = args.includes('--model-id') ? args[args.indexOf('--model-id') + 1] : 'bench@1';
const BATCH = 250_000;
const who = { technician: 'bench', displayName: null };
const shaOf = (i: number) => i.toString(16).padStart(64, '0');
const pathOf = (i: number) => `day-${Math.floor(i / 300)}/slide-${i}.jpg`;

function probabilitiesOf(i: number): Record<string, number> {
  const top = 0.4 + ((i * 7919) % 600) / 1000;
  return Object.fromEntries(CLASSES.map((c, k) => [c, k === i % 4 ? top : (1 - top) / 3]));
}

/** Slides `from`…`to`, each with its file and a prediction, and a decision on every third, chained after `head`. */
function batch(from: number, to: number, head: { seq: number; hash: string }): StoreRecords & { head: { seq: number; hash: string } } {
  const ids = Array.from({ length: to - from }, (_, k) => from + k);
  const at = new Date(1.7e12).toISOString();
  const journal: JournalEntry[] = [];
  for (const i of ids.filter((i) => i % 3 === 0)) {
    const body = { sha256: shaOf(i), action: 'confirm' as const, predicted: CLASSES[i % 4], probabilities: null, label: CLASSES[i % 4], previousLabel: null };
    const entry = { ...body, technician: 'bench', displayName: null, modelId: MODEL, note: '', seq: head.seq + 1, at, prevHash: head.hash };
    head = { seq: entry.seq, hash: entryHash(entry) };
    journal.push({ ...entry, hash: head.hash });
  }
  return {
    slides: ids.map((i) => ({ sha256: shaOf(i), path: pathOf(i), width: 224, height: 224, addedAt: new Date(1.7e12 + i * 60_000).toISOString() })),
    files: ids.map((i) => ({ path: pathOf(i), state: 'queued' as const, sha256: shaOf(i), duplicateOf: null, code: null, reason: null, size: 22_000, mtimeMs: 1, seenAt: at })),
    predictions: ids.map((i) => ({
      sha256: shaOf(i),
      prediction: {
        modelId: MODEL,
        label: CLASSES[i % 4],
        probabilities: probabilitiesOf(i),
        at,
        explanations: { layercam14: `explanations/${i}.png` },
        ood: { distance: 0.05, threshold: 0.12, unusual: i % 97 === 0 },
      },
    })),
    journal,
    head,
  };
}

async function build(location: string, n: number): Promise<void> {
  const store = await openStore(location, who);
  let head = { seq: 0, hash: '' };
  for (let from = 0; from < n; from += BATCH) {
    const { head: next, ...records } = batch(from, Math.min(n, from + BATCH), head);
    await store.importRecords(records);
    head = next;
  }
  await store.close();
}

type Timing = { median: number; p95: number };

async function time(runs: number, fn: (k: number) => Promise<unknown>): Promise<Timing> {
  const ms: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t = performance.now();
    await fn(k);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(runs / 2)], p95: ms[Math.min(runs - 1, Math.ceil(runs * 0.95) - 1)] };
}

const fmt = (t: Timing) => `${t.median.toFixed(1)} / ${t.p95.toFixed(1)}`;

/** Every sort and filter the app offers: sort × state × (no label filter, one label). */
const QUERIES: QueueQuery[] = (['uncertainty', 'arrival'] as const).flatMap((sort) =>
  (['to review', 'labelled', 'all'] as const).flatMap((state) => [null, 'Pre'].map((label) => ({ modelId: MODEL, sort, state, label }))),
);

/** The app's first frame of a list: a window of three pages and the rows of the first. */
async function firstPage(store: SlideStore, q: QueueQuery): Promise<void> {
  const w = await store.queueWindow(q, { sha256: null, index: 0 }, 192);
  await store.queueRows(w.keys.slice(0, 64), MODEL);
}

/** What the app does before its first queue frame: open the store, check its journal's tail, read the first window and the counts. */
async function appStart(location: string): Promise<void> {
  const store = await openStore(location, who);
  await assertStoreIntact(store, { recent: true });
  await firstPage(store, QUERIES[0]);
  await store.summary();
  await store.close();
}

async function measure(store: SlideStore, location: string) {
  const open = await time(5, async () => (await openStore(location, who)).close());
  // The whole check, as the app runs it in the background after its first start: it marks where the next starts check from.
  const whole = await time(1, () => store.verifyJournal());
  const start = await time(3, () => appStart(location));
  const pages: Array<{ q: QueueQuery; t: Timing }> = [];
  for (const q of QUERIES) pages.push({ q, t: await time(10, () => firstPage(store, q)) });
  const worst = pages.reduce((a, b) => (b.t.p95 > a.t.p95 ? b : a));
  const review = QUERIES[0];
  const all = await store.queueWindow(review, { sha256: null, index: 0 }, 1);
  const middle = (await store.queueWindow(review, { sha256: null, index: Math.floor(all.total / 2) }, 1)).keys[0];
  const deep = await time(10, () => store.queueWindow(review, { sha256: middle, index: 0 }, 192));
  const counts = await time(20, () => store.summary());
  const poll = await time(50, () => store.changeStamp());
  const order = (await store.queueWindow(review, { sha256: null, index: 0 }, 200)).keys;
  const decide = await time(50, (k) => store.decide({ sha256: order[k], action: 'correct', label: 'Pro', modelId: MODEL, predicted: 'Pre', probabilities: { Pre: 0.6, Pro: 0.4 } }));
  const lease = await time(50, (k) => store.claim(order[100 + k], { unlabelledOnly: true }));
  return { open, whole, start, worst, deep, counts, poll, decide, lease };
}

async function placeFor(n: number): Promise<{ location: string; done(): Promise<void> }> {
  if (storeArg === 'pg') {
    const { startPostgres } = await import('../test/support/postgres.js');
    const server = await startPostgres();
    if ('error' in server) throw new Error(`cannot start PostgreSQL: ${server.error}`);
    return { location: await server.database(), done: async () => server.stop() };
  }
  if (storeArg) return { location: storeArg, done: async () => undefined };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `bench-store-${n}-`));
  return { location: path.join(dir, 'store.db'), done: () => fs.rm(dir, { recursive: true, force: true }) };
}

async function sizeOf(location: string): Promise<string> {
  if (/^postgres(ql)?:/.test(location)) return '–';
  const bytes = (await fs.stat(location)).size + ((await fs.stat(`${location}-wal`).catch(() => null))?.size ?? 0);
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

console.log(
  "| store | slides | file | build | open | whole journal check (in the app's background) | app start (open, journal tail, first window, counts) | first window + page, every sort and filter (worst) | window around a slide half-way down | status counts | change poll | one decision | one lease |",
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const n of sizes) {
  const place = await placeFor(n);
  let stopped = false;
  const stop = () => (stopped ? Promise.resolve() : ((stopped = true), place.done()));
  if (!process.env.BENCH_KEEP) process.once('exit', () => void stop()); // a throw-away server is stopped even when a step fails
  const t0 = performance.now();
  await build(place.location, n);
  const buildS = (performance.now() - t0) / 1000;
  const store = await openStore(place.location, who);
  const m = await measure(store, place.location);
  const worstQuery = `${m.worst.q.sort}, ${m.worst.q.state}${m.worst.q.label ? `, ${m.worst.q.label}` : ''}`;
  const kind = /^postgres(ql)?:/.test(place.location) ? 'PostgreSQL' : 'SQLite';
  console.log(
    `| ${kind} | ${n.toLocaleString('en')} | ${await sizeOf(place.location)} | ${buildS.toFixed(0)} s | ${fmt(m.open)} | ${(m.whole.median / 1000).toFixed(1)} s | ${fmt(m.start)} | ${fmt(m.worst.t)} (${worstQuery}) | ${fmt(m.deep)} | ${fmt(m.counts)} | ${fmt(m.poll)} | ${fmt(m.decide)} | ${fmt(m.lease)} |`,
  );
  await store.close();
  if (process.env.BENCH_KEEP) console.log(`kept: ${place.location}`);
  else await stop();
}
console.log('\nms, median / 95th percentile; one process on this machine (2 cores); SQLite in WAL mode with synchronous=FULL.');

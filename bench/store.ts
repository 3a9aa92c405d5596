// npm run bench:store [-- 1000,10000,50000,100000]: the store at a year of slides. For each size, a
// synthetic store (one file, one prediction per slide; a third labelled) is built, and the operations
// the app and the commands make are timed: open, the queue's order and a page of rows, the status
// counts, the change poll, a decision, a lease. Medians and 95th percentiles over repeated runs.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../src/store/store.js';
import type { SlideStore } from '../src/store/types.js';

const sizes = (process.argv[2] ?? '1000,10000,50000,100000').split(',').map(Number);
const CLASSES = ['Benign', 'Early', 'Pre', 'Pro'];
const shaOf = (i: number) => i.toString(16).padStart(64, '0');

async function build(store: SlideStore, n: number): Promise<void> {
  const at = new Date().toISOString();
  for (let from = 0; from < n; from += 5000) {
    const ids = Array.from({ length: Math.min(5000, n - from) }, (_, k) => from + k);
    await store.importRecords({
      slides: ids.map((i) => ({ sha256: shaOf(i), path: `day-${Math.floor(i / 300)}/slide-${i}.jpg`, width: 224, height: 224, addedAt: new Date(1.7e12 + i * 60_000).toISOString() })),
      files: ids.map((i) => ({
        path: `day-${Math.floor(i / 300)}/slide-${i}.jpg`,
        state: 'queued' as const,
        sha256: shaOf(i),
        duplicateOf: null,
        code: null,
        reason: null,
        size: 22_000,
        mtimeMs: 1,
        seenAt: at,
      })),
      predictions: ids.map((i) => {
        const top = 0.4 + ((i * 7919) % 600) / 1000;
        const probabilities = Object.fromEntries(CLASSES.map((c, k) => [c, k === i % 4 ? top : (1 - top) / 3]));
        return {
          sha256: shaOf(i),
          prediction: {
            modelId: 'bench@1',
            label: CLASSES[i % 4],
            probabilities,
            at,
            explanations: { layercam: `explanations/${i}.png` },
            ood: { distance: 0.05, threshold: 0.12, unusual: i % 97 === 0 },
          },
        };
      }),
    });
  }
  // A third of the slides labelled, through the journal, as technicians would have.
  for (let i = 0; i < n; i += 3) await store.decide({ sha256: shaOf(i), action: 'confirm', label: CLASSES[i % 4], modelId: 'bench@1', predicted: CLASSES[i % 4], probabilities: null });
}

async function time(runs: number, fn: (k: number) => Promise<unknown>): Promise<{ median: number; p95: number }> {
  const ms: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t = performance.now();
    await fn(k);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(runs / 2)], p95: ms[Math.min(runs - 1, Math.ceil(runs * 0.95) - 1)] };
}

const fmt = (t: { median: number; p95: number }) => `${t.median.toFixed(1)} / ${t.p95.toFixed(1)}`;

console.log('| slides | file | build | open | queue order (uncertainty, to review) | page of 64 rows | status counts | change poll | one decision | one lease |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const n of sizes) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-store-'));
  const file = path.join(dir, 'store.db');
  const who = { technician: 'bench', displayName: null };
  const t0 = performance.now();
  const built = await openStore(file, who);
  await build(built, n);
  await built.close();
  const buildS = (performance.now() - t0) / 1000;
  const open = await time(5, async () => (await openStore(file, who)).close());
  const store = await openStore(file, who);
  const query = { modelId: 'bench@1', sort: 'uncertainty' as const, state: 'to review' as const, label: null };
  const order = await store.queueOrder(query);
  const q = await time(10, () => store.queueOrder(query));
  const page = await time(20, (k) => store.queueRows(order.slice(k * 64, k * 64 + 64), 'bench@1'));
  const counts = await time(10, () => store.summary());
  const poll = await time(50, () => store.changeStamp());
  const decide = await time(50, (k) => store.decide({ sha256: order[k], action: 'correct', label: 'Pro', modelId: 'bench@1', predicted: 'Pre', probabilities: { Pre: 0.6, Pro: 0.4 } }));
  const lease = await time(50, (k) => store.claim(order[100 + k], { unlabelledOnly: true }));
  const size = (await fs.stat(file)).size + ((await fs.stat(`${file}-wal`).catch(() => null))?.size ?? 0);
  console.log(
    `| ${n.toLocaleString('en')} | ${(size / 1e6).toFixed(0)} MB | ${buildS.toFixed(0)} s | ${fmt(open)} | ${fmt(q)} | ${fmt(page)} | ${fmt(counts)} | ${fmt(poll)} | ${fmt(decide)} | ${fmt(lease)} |`,
  );
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
}
console.log('\nms, median / 95th percentile; one process on this machine (2 cores), SQLite in WAL mode with synchronous=FULL.');

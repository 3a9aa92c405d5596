// A technician's workstation as a separate process (issue #21's multi-host test): it takes the next
// predicted slide nobody else has open, confirms it, and prints "ack <sha>" once the decision returned.
// A failed call (the database restarting) is retried, as a technician would press the key again; it
// stops when `total` slides are labelled.
import { openStore } from '../../src/store/store.js';

const [url, technician, total] = process.argv.slice(2);
const store = await openStore(url, { technician, displayName: null });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 'waiting': nothing predicted is free yet; 'done': every slide is labelled. */
async function decideNext(): Promise<'decided' | 'waiting' | 'done'> {
  // As the app polls for other processes' writes (a plain query: the store's reads in a transaction are
  // retried inside the store, so this is where a restart of the database is felt).
  await store.changeStamp();
  const order = await store.queueOrder({ modelId: null, sort: 'arrival', state: 'to review', label: null });
  const rows = (await store.queueRows(order.slice(0, 16), null)).filter((r) => r.prediction);
  const sha256 = await store.leaseNext(
    rows.map((r) => r.sha256),
    30_000,
  );
  const row = rows.find((r) => r.sha256 === sha256);
  if (!row) return (await store.summary()).labelled < Number(total) ? 'waiting' : 'done';
  const { label, modelId, probabilities } = row.prediction!;
  await store.decide({ sha256: row.sha256, action: 'confirm', label, modelId, predicted: label, probabilities, seen: null });
  process.stdout.write(`ack ${row.sha256}\n`);
  await store.releaseLease(row.sha256);
  return 'decided';
}

for (let state = 'decided'; state !== 'done';) {
  try {
    state = await decideNext();
    if (state === 'waiting') await pause(100);
  } catch (err) {
    process.stdout.write(`retry ${(err as Error).message}\n`);
    await pause(200);
  }
}
await store.close();

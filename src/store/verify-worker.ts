// Runs the whole journal check on a connection of its own, in a worker thread, and posts its result.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from './store.js';
import type { Identity } from './types.js';

const { location, identity } = workerData as { location: string; identity: Identity };
const store = await openStore(location, identity);
try {
  parentPort!.postMessage(await store.verifyJournal());
} finally {
  await store.close();
}

// A separate process that labels slides in a shared store, printing "ack <sha>" after each decision
// returns. Used by the store tests: several at once, and killed with SIGKILL at random moments.
import { openStore } from '../../src/store/store.js';

const [storeFile, first, count] = process.argv.slice(2);
const store = await openStore(storeFile, { technician: `writer-${process.pid}`, displayName: null });
for (let i = Number(first); i < Number(first) + Number(count); i++) {
  const sha256 = i.toString(16).padStart(64, '0');
  await store.decide({ sha256, action: i % 3 ? 'confirm' : 'correct', label: ['Benign', 'Early', 'Pre', 'Pro'][i % 4], modelId: 'm@1', predicted: 'Early', probabilities: { Early: 0.9 } });
  process.stdout.write(`ack ${sha256}\n`);
}
await store.close();

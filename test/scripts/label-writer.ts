// A separate process that labels slides in a shared store, printing "ack <sha>" after each decision
// returns (each after a prediction of the slide). Used by the store tests: several at once, and killed with SIGKILL at random moments.
import { openStore } from '../../src/store/store.js';

const [storeFile, first, count] = process.argv.slice(2);
const store = await openStore(storeFile, { technician: `writer-${process.pid}`, displayName: null });
for (let i = Number(first); i < Number(first) + Number(count); i++) {
  const sha256 = i.toString(16).padStart(64, '0');
  // A prediction first, so that the queue's rank rows and tallies are written by several processes at once too.
  const top = 0.5 + (i % 50) / 100;
  await store.addPrediction(sha256, { modelId: 'm@2', label: 'Pre', probabilities: { Pre: top, Pro: 1 - top }, at: '', explanations: {}, ood: { distance: 0, threshold: 1, unusual: i % 9 === 0 } });
  await store.decide({ sha256, action: i % 3 ? 'confirm' : 'correct', label: ['Benign', 'Early', 'Pre', 'Pro'][i % 4], modelId: 'm@1', predicted: 'Early', probabilities: { Early: 0.9 } });
  process.stdout.write(`ack ${sha256}\n`);
}
await store.close();

// Issue #24, items 2 and 3 at the store: a decision is done when its journal line is on disk, whatever the
// store file is doing, and a decision over another technician's change says whose it was.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJournal } from '../src/store/journal.js';
import { acquireLock } from '../src/store/lock.js';
import { currentLabel } from '../src/store/schema.js';
import { SlideStore } from '../src/store/store.js';
import { tempDir } from './helpers.js';

const shaOf = (i: number) => i.toString(16).padStart(64, '0');

async function storeWithSlides(n: number) {
  const dir = await tempDir();
  const file = path.join(dir, 'data', 'store.json');
  const journal = path.join(dir, 'data', 'audit.jsonl');
  const alice = await SlideStore.open(file, journal, { technician: 'alice', displayName: null });
  await alice.update((d) => {
    for (let i = 0; i < n; i++) d.slides[shaOf(i)] = { sha256: shaOf(i), path: `s${i}.png`, width: 100, height: 100, addedAt: new Date().toISOString() };
  });
  return { file, journal, alice };
}

const within = <T>(p: Promise<T>, ms: number, what: string) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms))]);

describe('decisions', () => {
  it('are on disk in the journal when decide returns, while another process holds the store (a slow rewrite)', async () => {
    const { file, journal, alice } = await storeWithSlides(2);
    await alice.read(); // the slides are known
    const release = await acquireLock(file); // the store busy elsewhere: before, a decision waited here
    try {
      const { entry } = await within(
        alice.decide({ sha256: shaOf(0), action: 'correct', label: 'Pre', modelId: 'm@1', predicted: 'Pro', probabilities: null }),
        5_000,
        'a decision while the store is locked',
      );
      const { entries } = await readJournal(journal);
      expect(entries.map((e) => [e.seq, e.sha256, e.label])).toEqual([[entry.seq, shaOf(0), 'Pre']]);
    } finally {
      await release();
    }
    // The store follows once it is free, and a reopened store has it either way.
    expect(currentLabel(await alice.read(), shaOf(0))?.label).toBe('Pre');
    const reopened = await SlideStore.open(file, journal);
    expect(currentLabel(await reopened.read(), shaOf(0))?.label).toBe('Pre');
  });

  it("name another technician's change made since the slide was looked at, and record the label it replaced", async () => {
    const { file, journal, alice } = await storeWithSlides(1);
    const bob = await SlideStore.open(file, journal, { technician: 'bob', displayName: null });
    await alice.read();
    await bob.decide({ sha256: shaOf(0), action: 'correct', label: 'Pre', modelId: null, predicted: 'Early', probabilities: null });
    // Alice saw no label (the slide was to review on her screen) and corrects it to Early.
    const decided = await alice.decide({ sha256: shaOf(0), action: 'correct', label: 'Early', modelId: null, predicted: 'Early', probabilities: null, seen: null });
    expect(decided.overrode).toMatchObject({ technician: 'bob', label: 'Pre' });
    expect(decided.entry.previousLabel).toBe('Pre');
    // Having seen bob's label, there is nothing to report.
    const again = await alice.decide({ sha256: shaOf(0), action: 'correct', label: 'Pro', modelId: null, predicted: 'Early', probabilities: null, seen: 'Early' });
    expect(again.overrode).toBeNull();
    const data = await alice.read();
    expect(data.decisions[shaOf(0)].map((d) => `${d.technician}:${d.label}`)).toEqual(['bob:Pre', 'alice:Early', 'alice:Pro']);
    expect((await fs.readFile(journal, 'utf8')).trim().split('\n')).toHaveLength(3);
  });
});

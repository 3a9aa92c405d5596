// Issue #24, items 5–9: every incoming file gets exactly one state, whatever its mode bits, links, name,
// writer or fate. Each test failed on the code before (the file had no state, or the wrong one).
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingWatcher } from '../src/ingest/watcher.js';
import type { FileEntry } from '../src/store/schema.js';
import { FIXTURES } from './helpers.js';
import { incomingFixture, LIMITS, waitUntil } from './support/incoming.js';

const watchers: IncomingWatcher[] = [];
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
});
const fixture = incomingFixture(watchers);
const PNG = path.join(FIXTURES, 'samples/cnmc-hem-H11-10-1.png');
const JPG = path.join(FIXTURES, 'samples/cnmc-all-14-26-2.jpg');

/** Whether this process can open the file for reading: root can read a mode-000 file, others cannot. */
async function canOpen(file: string): Promise<boolean> {
  const h = await fs.open(file, 'r').catch(() => null);
  await h?.close();
  return !!h;
}

const stateOf = (e: FileEntry | undefined) => (e ? [e.state, e.code] : 'no state');

describe('every incoming file gets exactly one state', () => {
  it('decides readability by opening the file, never by its mode bits (mode 000 and 0204)', async () => {
    const { incoming, store, start } = await fixture();
    for (const [name, mode, from] of [
      ['m000.png', 0o000, PNG],
      ['m0204.jpg', 0o204, JPG],
    ] as const) {
      await fs.copyFile(from, path.join(incoming, name));
      await fs.chmod(path.join(incoming, name), mode);
    }
    const { w } = start();
    await w.whenIdle();
    const data = await store.dump();
    for (const name of ['m000.png', 'm0204.jpg']) {
      const readable = await canOpen(path.join(incoming, name));
      expect(stateOf(data.files[name]), name).toEqual(readable ? ['queued', null] : ['rejected', 'unreadable']);
      if (!readable) expect(data.files[name].reason).toMatch(/EACCES/);
    }
  });

  it('rejects a loop of links and a link to nothing as unreadable, at start and when they appear later', async () => {
    const { incoming, store, start } = await fixture();
    await fs.symlink('loop-b.jpg', path.join(incoming, 'loop-a.jpg'));
    await fs.symlink('loop-a.jpg', path.join(incoming, 'loop-b.jpg'));
    await fs.symlink('nowhere.jpg', path.join(incoming, 'dangling.jpg'));
    const { w } = start({ rescanMs: 300 });
    await w.whenIdle();
    const data = await store.dump();
    for (const name of ['loop-a.jpg', 'loop-b.jpg']) {
      expect(stateOf(data.files[name])).toEqual(['rejected', 'unreadable']);
      expect(data.files[name].reason).toMatch(/ELOOP/);
    }
    expect(data.files['dangling.jpg'].reason).toMatch(/ENOENT/);
    // chokidar announces no event for a link that resolves nowhere: the periodic walk finds it.
    await fs.symlink('late-b.jpg', path.join(incoming, 'late-a.jpg'));
    await fs.symlink('late-a.jpg', path.join(incoming, 'late-b.jpg'));
    await waitUntil(async () => (await store.dump()).files['late-a.jpg']?.code === 'unreadable', 10_000);
  });

  it('keeps a file named __proto__ as a key like any other, across a write and a read', async () => {
    const { incoming, store, start } = await fixture();
    await fs.copyFile(path.join(FIXTURES, 'bad/__proto__'), path.join(incoming, '__proto__'));
    await fs.mkdir(path.join(incoming, 'constructor'));
    await fs.copyFile(PNG, path.join(incoming, 'constructor', '__proto__.png'));
    const { w } = start();
    await w.whenIdle();
    const data = await store.dump();
    expect(Object.keys(data.files).sort()).toEqual(['__proto__', path.join('constructor', '__proto__.png')]);
    expect(stateOf(data.files['__proto__'])).toEqual(['rejected', 'extension']);
    expect((await store.summary()).files).toMatchObject({ queued: 1, rejected: 1 });
  });

  it('calls a file still being written `changed` and reads it again, never rejecting it on the way', async () => {
    const { incoming, store, start } = await fixture({ ...LIMITS, settleSeconds: 1.5 });
    const { w } = start();
    await w.whenIdle();
    const bytes = await fs.readFile(JPG);
    const target = path.join(incoming, 'copying.jpg');
    const seen = new Set<string>();
    const watch = setInterval(() => void store.dump().then((d) => d.files['copying.jpg'] && seen.add(String(stateOf(d.files['copying.jpg'])))), 50);
    // The attack: a writer appending every 0.5 s, for 3 s.
    const h = await fs.open(target, 'w');
    const chunk = Math.ceil(bytes.length / 7);
    for (let i = 0; i < bytes.length; i += chunk) {
      await h.write(bytes.subarray(i, i + chunk));
      await h.sync();
      await new Promise((r) => setTimeout(r, 500));
    }
    await h.close();
    await waitUntil(async () => (await store.dump()).files['copying.jpg']?.state === 'queued', 15_000);
    clearInterval(watch);
    expect([...seen].filter((s) => s.startsWith('rejected'))).toEqual([]);
    expect(seen).toContain('changed,changed');
  });

  it('marks a removed file gone: its slide leaves the queue with its labels, a duplicate carries it on', async () => {
    const { incoming, store, start } = await fixture();
    await fs.copyFile(PNG, path.join(incoming, 'a.png'));
    await fs.copyFile(PNG, path.join(incoming, 'b.png'));
    await fs.copyFile(JPG, path.join(incoming, 'other.jpg'));
    const first = start();
    await first.w.whenIdle();
    const sha = (await store.dump()).files['a.png'].sha256!;
    await store.decide({ sha256: sha, action: 'correct', label: 'Pre', modelId: null, predicted: null, probabilities: null });
    await fs.rm(path.join(incoming, 'a.png'));
    await waitUntil(async () => (await store.dump()).files['a.png'].state === 'gone');
    let data = await store.dump();
    expect(stateOf(data.files['b.png'])).toEqual(['queued', null]);
    expect(data.slides[sha].path).toBe('b.png');
    const queuePaths = async () => (await store.queueRows(await store.queueOrder({ modelId: null, sort: 'arrival', state: 'all', label: null }), null)).map((r) => r.path).sort();
    expect(await queuePaths()).toEqual(['b.png', 'other.jpg']);
    // Removed while nothing watched: the walk at the next start finds it gone.
    await first.w.stop();
    await fs.rm(path.join(incoming, 'b.png'));
    const second = start();
    await second.w.whenIdle();
    data = await store.dump();
    expect(stateOf(data.files['b.png'])).toEqual(['gone', null]);
    expect(await queuePaths()).toEqual(['other.jpg']);
    expect(data.decisions[sha].at(-1)?.label).toBe('Pre');
    expect(await store.summary()).toMatchObject({ files: { queued: 1, gone: 2 }, slides: 1, goneSlides: 1, goneLabelled: 1, byLabel: { Pre: 1 } });
  });
});

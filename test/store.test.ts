import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJournal, verifyJournal } from '../src/store/journal.js';
import { currentLabel, storeSchema } from '../src/store/schema.js';
import { labelStack, SlideStore } from '../src/store/store.js';
import { tempDir } from './helpers.js';

const WRITER = path.join(import.meta.dirname, 'scripts', 'label-writer.ts');
const shaOf = (i: number) => i.toString(16).padStart(64, '0');

async function storeWithSlides(n: number) {
  const dir = await tempDir();
  const file = path.join(dir, 'data', 'store.json');
  const journal = path.join(dir, 'data', 'audit.jsonl');
  const store = await SlideStore.open(file, journal, { technician: 'tester', displayName: 'Test Er' });
  await store.update((d) => {
    for (let i = 0; i < n; i++) d.slides[shaOf(i)] = { sha256: shaOf(i), path: `s${i}.png`, width: 100, height: 100, addedAt: new Date().toISOString() };
  });
  return { dir, file, journal, store };
}

function writer(file: string, journal: string, first: number, count: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, journal, String(first), String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acks: string[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) if (l.startsWith('ack ')) acks.push(l.slice(4));
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, acks, exited, stderr: () => stderr };
}

describe('label store', () => {
  it('keeps every decision, undo included, with who, when and which model; files are owner and group only', async () => {
    const { store, file, journal } = await storeWithSlides(2);
    const sha = shaOf(0);
    await store.decide({ sha256: sha, action: 'confirm', label: 'Early', modelId: 'm@1', predicted: 'Early', probabilities: { Early: 0.8 } });
    await store.decide({ sha256: sha, action: 'correct', label: 'Pro', note: 'pale, large nucleoli', modelId: 'm@1', predicted: 'Early', probabilities: { Early: 0.8 } });
    let data = await store.read();
    expect(currentLabel(data, sha)).toMatchObject({ label: 'Pro', technician: 'tester', displayName: 'Test Er', modelId: 'm@1', note: 'pale, large nucleoli' });
    await store.undo(sha);
    data = await store.read();
    expect(currentLabel(data, sha)?.label).toBe('Early');
    await store.undo(sha);
    data = await store.read();
    expect(currentLabel(data, sha)).toBeNull();
    expect(await store.undo(sha)).toBeNull();
    expect(data.decisions[sha].map((d) => d.action)).toEqual(['confirm', 'correct', 'undo', 'undo']);
    expect(labelStack(data.decisions[sha])).toEqual([]);
    const { entries } = await readJournal(journal);
    expect(entries.map((e) => [e.action, e.label, e.previousLabel])).toEqual([
      ['confirm', 'Early', null],
      ['correct', 'Pro', 'Early'],
      ['undo', 'Early', 'Pro'],
      ['undo', null, 'Early'],
    ]);
    expect((await verifyJournal(journal, data.journalHead)).ok).toBe(true);
    await expect(store.decide({ sha256: shaOf(99), action: 'confirm', label: 'Pro', modelId: null, predicted: null, probabilities: null })).rejects.toThrow(/no slide/);
    for (const f of [file, journal]) expect((await fs.stat(f)).mode & 0o777).toBe(0o660);
    expect((await fs.stat(path.dirname(file))).mode & 0o007).toBe(0);
  });

  it('reads taken while decisions are being written (the app polls the file) never drop a decision', async () => {
    const n = 20;
    const { store, journal } = await storeWithSlides(n);
    let writing = true;
    // Readers outside the lock, as the app's 2-second poll and refresh after each key are.
    const readers = [0, 1, 2].map(async () => {
      let reads = 0;
      while (writing) {
        await store.read();
        reads++;
      }
      return reads;
    });
    for (let i = 0; i < n; i++) {
      await store.decide({ sha256: shaOf(i), action: 'correct', label: 'Pre', modelId: 'm@1', predicted: 'Pro', probabilities: null });
    }
    writing = false;
    expect(Math.min(...(await Promise.all(readers)))).toBeGreaterThan(0);
    const data = await store.read();
    const lost = Array.from({ length: n }, (_, i) => shaOf(i)).filter((sha) => currentLabel(data, sha)?.label !== 'Pre');
    expect(lost).toEqual([]);
    expect(data.journalHead.seq).toBe(n);
    expect(await verifyJournal(journal, data.journalHead)).toMatchObject({ ok: true });
  });

  it('finds an edited, removed, reordered or cut-off journal entry', async () => {
    const { store, journal } = await storeWithSlides(4);
    for (let i = 0; i < 4; i++) await store.decide({ sha256: shaOf(i), action: 'confirm', label: 'Pre', modelId: 'm', predicted: 'Pre', probabilities: null });
    const head = (await store.read()).journalHead;
    const lines = (await fs.readFile(journal, 'utf8')).trim().split('\n');
    const check = async (text: string) => {
      await fs.writeFile(journal, text);
      return verifyJournal(journal, head);
    };
    expect((await check(lines.join('\n') + '\n')).ok).toBe(true);
    expect((await check([lines[0], lines[1].replace('"Pre"', '"Pro"'), lines[2], lines[3]].join('\n'))).problems.join()).toMatch(/edited/);
    expect((await check([lines[0], lines[2], lines[3]].join('\n'))).problems.join()).toMatch(/removed or reordered/);
    expect((await check([lines[0], lines[2], lines[1], lines[3]].join('\n'))).ok).toBe(false);
    expect((await check(lines.slice(0, 3).join('\n'))).problems.join()).toMatch(/cut off the end/);
  });

  it('4 processes × 250 label writes on one store: 1,000 labels, a parseable file, a journal that verifies', async () => {
    const { file, journal } = await storeWithSlides(1000);
    const writers = [0, 1, 2, 3].map((k) => writer(file, journal, k * 250, 250));
    const codes = await Promise.all(writers.map((w) => w.exited));
    expect(codes, writers.map((w) => w.stderr()).join('\n')).toEqual([0, 0, 0, 0]);
    const data = storeSchema.parse(JSON.parse(await fs.readFile(file, 'utf8')));
    expect(Object.keys(data.decisions)).toHaveLength(1000);
    expect(data.journalHead.seq).toBe(1000);
    const verify = await verifyJournal(journal, data.journalHead);
    expect(verify).toMatchObject({ ok: true, entries: 1000 });
    expect(new Set(Object.values(data.decisions).map((d) => d[0].technician)).size).toBe(4);
  }, 120_000);

  it('50 kill -9 of a writer at random moments: the store always parses and every acknowledged write is there', async () => {
    const { file, journal } = await storeWithSlides(2_000);
    let next = 0;
    const acknowledged: string[] = [];
    for (let round = 0; round < 50; round++) {
      const w = writer(file, journal, next, 2_000 - next);
      // Wait for the first acknowledged write, then kill at a random moment in the next 0–60 ms.
      while (!w.acks.length && w.child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, Math.random() * 60));
      w.child.kill('SIGKILL');
      await w.exited;
      acknowledged.push(...w.acks);
      const data = storeSchema.parse(JSON.parse(await fs.readFile(file, 'utf8')));
      const head = data.journalHead.seq;
      next = head + 10; // skip past anything the killed writer may have half-written
      // Acknowledged writes are in the store, or in the journal to be replayed on the next open.
      const { entries } = await readJournal(journal);
      const journalled = new Set(entries.map((e) => e.sha256));
      for (const sha of w.acks) expect(journalled.has(sha)).toBe(true);
    }
    const reopened = await SlideStore.open(file, journal);
    const data = await reopened.read();
    for (const sha of acknowledged) expect(data.decisions[sha]?.length, sha).toBeGreaterThan(0);
    expect((await verifyJournal(journal, data.journalHead)).ok).toBe(true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(50);
    expect(next).toBeLessThan(2_000);
  }, 240_000);
});

describe('leases', () => {
  it('a slide leased by one instance is offered to a second only when the lease expires', async () => {
    const { file, journal, store } = await storeWithSlides(3);
    const order = [0, 1, 2].map(shaOf);
    expect(await store.leaseNext(order)).toBe(order[0]);
    expect(await store.leaseNext(order)).toBe(order[0]); // our own lease: the same slide again
    // A second instance: another process id, simulated by a lease written under another pid.
    const bobs = { technician: 'bob', pid: process.pid + 1, host: 'other-host', expiresAt: Date.now() + 60_000 };
    store.leases.writeSync(order[1], bobs);
    store.leases.writeSync(order[0], bobs);
    expect(await store.lease(order[0])).toBe(false);
    expect(await store.leaseNext(order)).toBe(order[2]);
    store.leases.writeSync(order[0], { ...bobs, expiresAt: Date.now() - 1 });
    expect(await store.lease(order[0])).toBe(true);
    await store.decide({ sha256: order[0], action: 'confirm', label: 'Pre', modelId: null, predicted: 'Pre', probabilities: null });
    await store.releaseLease(order[0]);
    const reopened = await SlideStore.open(file, journal);
    expect((await reopened.read()).leases[order[0]]).toBeUndefined();
    // Labelled slides are not offered.
    expect(await reopened.leaseNext([order[0]])).toBeNull();
  });
});

describe('journal hashing', () => {
  it('covers nested values: a changed probability breaks the hash', async () => {
    const { canonicalJson, entryHash } = await import('../src/store/journal.js');
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}');
    const body = {
      sha256: 'x',
      action: 'confirm' as const,
      predicted: 'Pro',
      probabilities: { Pro: 0.6, Early: 0.4 },
      label: 'Pro',
      previousLabel: null,
      technician: 't',
      displayName: null,
      modelId: 'm',
      note: '',
      seq: 1,
      at: 'now',
      prevHash: '',
    };
    expect(entryHash({ ...body, probabilities: { Pro: 0.6, Early: 0.41 } })).not.toBe(entryHash(body));
    expect(entryHash({ ...body, probabilities: { Early: 0.4, Pro: 0.6 } })).toBe(entryHash(body));
  });
});

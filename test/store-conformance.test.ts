// The store's promises, for every implementation of the SlideStore interface (SQLite now; PostgreSQL is
// to pass the same suite): decisions with who, when and which model; a journal whose tampering is found;
// several processes at once; kill -9 at any moment; leases across processes and hosts.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labelStack } from '../src/store/schema.js';
import { verifyEntries } from '../src/store/journal.js';
import { shaOf, storeKinds, storeWithSlides } from './support/store.js';

const { kinds, stop } = await storeKinds();
afterAll(() => stop());

const WRITER = path.join(import.meta.dirname, 'scripts', 'label-writer.ts');

function writer(file: string, first: number, count: number) {
  // Each writer is a host of its own (its leases and predictions say so; on PostgreSQL, as several machines would be).
  const env = { ...process.env, SLIDETRIAGE_HOST: `writer-host-${first}` };
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, String(first), String(count)], { stdio: ['ignore', 'pipe', 'pipe'], env });
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

const decision = (sha256: string, label = 'Pre') => ({ sha256, action: 'correct' as const, label, modelId: 'm@1', predicted: 'Pro', probabilities: null });

describe.each(kinds)('$name store', (kind) => {
  it('keeps every decision, undo included, with who, when and which model; files are owner and group only', async () => {
    const { store, location } = await storeWithSlides(kind, 2);
    const sha = shaOf(0);
    await store.decide({ sha256: sha, action: 'confirm', label: 'Early', modelId: 'm@1', predicted: 'Early', probabilities: { Early: 0.8 } });
    await store.decide({ sha256: sha, action: 'correct', label: 'Pro', note: 'pale, large nucleoli', modelId: 'm@1', predicted: 'Early', probabilities: { Early: 0.8 } });
    expect((await store.decisionsOf(sha)).at(-1)).toMatchObject({ label: 'Pro', technician: 'tester', displayName: 'Test Er', modelId: 'm@1', note: 'pale, large nucleoli' });
    await store.undo(sha);
    expect((await store.queueRows([sha], null))[0].label).toBe('Early');
    await store.undo(sha);
    expect((await store.queueRows([sha], null))[0]).toMatchObject({ label: null, state: 'to review' });
    expect(await store.undo(sha)).toBeNull();
    const decisions = await store.decisionsOf(sha);
    expect(decisions.map((d) => d.action)).toEqual(['confirm', 'correct', 'undo', 'undo']);
    expect(labelStack(decisions)).toEqual([]);
    const entries = await store.journalEntries();
    expect(entries.map((e) => [e.action, e.label, e.previousLabel])).toEqual([
      ['confirm', 'Early', null],
      ['correct', 'Pro', 'Early'],
      ['undo', 'Early', 'Pro'],
      ['undo', null, 'Early'],
    ]);
    expect(verifyEntries(entries)).toMatchObject({ ok: true, entries: 4 });
    expect((await store.verifyJournal()).ok).toBe(true);
    await expect(store.decide(decision(shaOf(99)))).rejects.toThrow(/no slide/);
    if (kind.name !== 'SQLite') return; // a server's files are the server's
    const files = (await fs.readdir(path.dirname(location))).filter((f) => f.startsWith('store.db'));
    expect(files.sort()).toEqual(['store.db', 'store.db-shm', 'store.db-wal', 'store.db.heads']);
    for (const f of files) expect((await fs.stat(path.join(path.dirname(location), f))).mode & 0o777, f).toBe(0o660);
    expect((await fs.stat(path.dirname(location))).mode & 0o777).toBe(0o770);
  });

  it('a decision is committed, journal row and label together, when decide returns: another connection sees both', async () => {
    const { store, location } = await storeWithSlides(kind, 1);
    const { entry } = await store.decide(decision(shaOf(0)));
    expect(await kind.peek(location, 'SELECT CAST(seq AS INTEGER) AS seq, label FROM journal')).toEqual([{ seq: entry.seq, label: 'Pre' }]);
    expect(await kind.peek(location, 'SELECT label, CAST(label_seq AS INTEGER) AS label_seq FROM slides')).toEqual([{ label: 'Pre', label_seq: entry.seq }]);
  });

  it("names another technician's change made since the slide was looked at, and records the label it replaced", async () => {
    const { store: alice, location } = await storeWithSlides(kind, 1, { technician: 'alice', displayName: null });
    const bob = await kind.open(location, { technician: 'bob', displayName: null });
    await bob.decide(decision(shaOf(0), 'Pre'));
    const decided = await alice.decide({ ...decision(shaOf(0), 'Early'), seen: null });
    expect(decided.overrode).toMatchObject({ technician: 'bob', label: 'Pre' });
    expect(decided.entry.previousLabel).toBe('Pre');
    expect((await alice.decide({ ...decision(shaOf(0), 'Pro'), seen: 'Early' })).overrode).toBeNull();
    expect((await alice.decisionsOf(shaOf(0))).map((d) => `${d.technician}:${d.label}`)).toEqual(['bob:Pre', 'alice:Early', 'alice:Pro']);
  });

  it('reads taken while decisions are being written never drop a decision', async () => {
    const n = 20;
    const { store, location } = await storeWithSlides(kind, n);
    const reader = await kind.open(location);
    let writing = true;
    const readers = [0, 1, 2].map(async () => {
      let reads = 0;
      while (writing) {
        await reader.queueOrder({ modelId: null, sort: 'uncertainty', state: 'to review', label: null });
        await reader.summary();
        reads++;
        await new Promise((r) => setImmediate(r));
      }
      return reads;
    });
    for (let i = 0; i < n; i++) await store.decide(decision(shaOf(i)));
    writing = false;
    expect(Math.min(...(await Promise.all(readers)))).toBeGreaterThan(0);
    expect(await reader.summary()).toMatchObject({ labelled: n, unlabelled: 0, journalEntries: n, byLabel: { Pre: n } });
    expect(await reader.verifyJournal()).toMatchObject({ ok: true, entries: n });
  });

  it('finds an edited, removed, reordered or cut-off journal row; the table refuses UPDATE and DELETE', async () => {
    const { store, location } = await storeWithSlides(kind, 4);
    for (let i = 0; i < 4; i++) await store.decide(decision(shaOf(i)));
    await store.close(); // a database copied from a template has no one connected to it
    const copy = async (tamper: string) => {
      const copied = await kind.copy(location);
      await expect(kind.exec(copied, "UPDATE journal SET label = 'Pro' WHERE seq = 2")).rejects.toThrow(/append-only/);
      await expect(kind.exec(copied, 'DELETE FROM journal WHERE seq = 2')).rejects.toThrow(/append-only/);
      await kind.exec(copied, `${kind.unprotect}; ${tamper}`);
      const opened = await kind.open(copied);
      const problems = (await opened.verifyJournal()).problems.join('; ');
      await opened.close();
      return problems;
    };
    expect(await copy('SELECT 1')).toBe('');
    expect(await copy("UPDATE journal SET label = 'Pro' WHERE seq = 2")).toMatch(/seq 2: its content does not match its hash — edited/);
    expect(await copy('DELETE FROM journal WHERE seq = 2')).toMatch(/seq 3: follows seq 1 — an entry was removed or reordered/);
    expect(await copy('UPDATE journal SET seq = 99 WHERE seq = 2; UPDATE journal SET seq = 2 WHERE seq = 3; UPDATE journal SET seq = 3 WHERE seq = 99')).toMatch(/edited/);
    expect(await copy('DELETE FROM journal WHERE seq = 4')).toMatch(/the store has applied entry 4 but the journal ends at 3 — entries were cut off the end/);
  });

  it('4 processes × 250 decisions on one store: 1,000 labels and a journal that verifies', async () => {
    const { location, store } = await storeWithSlides(kind, 1000);
    await store.close();
    const writers = [0, 1, 2, 3].map((k) => writer(location, k * 250, 250));
    const codes = await Promise.all(writers.map((w) => w.exited));
    expect(codes, writers.map((w) => w.stderr()).join('\n')).toEqual([0, 0, 0, 0]);
    const reopened = await kind.open(location);
    expect(await reopened.summary()).toMatchObject({ labelled: 1000, journalEntries: 1000 });
    expect(await reopened.verifyJournal()).toMatchObject({ ok: true, entries: 1000 });
    expect(new Set((await reopened.journalEntries()).map((e) => e.technician)).size).toBe(4);
    // The queue's rank rows and tallies, written by the four at once, match the tables.
    expect(await reopened.queueCheck()).toEqual([]);
    expect((await reopened.queueWindow({ modelId: 'm@2', sort: 'uncertainty', state: 'labelled', label: null }, { sha256: null, index: 0 }, 10)).total).toBe(1000);
  }, 120_000);

  it('50 kill -9 of a writer at random moments: the store always opens and every acknowledged decision is there', async () => {
    const { location, store } = await storeWithSlides(kind, 5_000);
    await store.close();
    let next = 0;
    const acknowledged: string[] = [];
    for (let round = 0; round < 50; round++) {
      const w = writer(location, next, 5_000 - next);
      // Wait for the first acknowledged decision, then kill at a random moment in the next 0–60 ms.
      while (!w.acks.length && w.child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, Math.random() * 60));
      w.child.kill('SIGKILL');
      await w.exited;
      acknowledged.push(...w.acks);
      const opened = await kind.open(location);
      const decided = new Set((await opened.journalEntries()).map((e) => e.sha256));
      for (const sha of w.acks) expect(decided.has(sha), sha).toBe(true);
      next = (await opened.summary()).journalEntries; // nothing half-written to skip: a transaction is whole or absent
      await opened.close();
    }
    const reopened = await kind.open(location);
    expect((await reopened.verifyJournal()).ok).toBe(true);
    expect((await reopened.summary()).labelled).toBe(new Set((await reopened.journalEntries()).map((e) => e.sha256)).size);
    expect(await reopened.queueCheck()).toEqual([]); // killed between any two writes, the rank rows and tallies still match
    expect(acknowledged.length).toBeGreaterThanOrEqual(50);
    expect(next).toBeLessThan(5_000);
  }, 240_000);

  it('a corrupt or foreign store, or one of a newer slidetriage, gets a clear error', async () => {
    if (kind.name === 'SQLite') {
      const junk = await kind.fresh();
      await fs.mkdir(path.dirname(junk), { recursive: true });
      await fs.writeFile(junk, 'this is not a database, it is a shopping list\n'.repeat(100));
      await expect(kind.open(junk)).rejects.toThrow(/is not a slidetriage store \(file is not a database\)/);
    }
    const foreign = await kind.fresh();
    const says = await kind.foreign(foreign);
    await expect(kind.open(foreign)).rejects.toThrow(says);
    const { location, store } = await storeWithSlides(kind, 1);
    await store.close();
    await kind.exec(location, kind.newer);
    await expect(kind.open(location)).rejects.toThrow(/written by a newer slidetriage \(schema 99/);
  });

  it('the change stamp moves when another process writes, and stays put otherwise', async () => {
    const { location, store } = await storeWithSlides(kind, 2);
    const other = await kind.open(location, { technician: 'bob', displayName: null });
    const before = await store.changeStamp();
    expect(await store.changeStamp()).toBe(before);
    await other.decide(decision(shaOf(1)));
    const after = await store.changeStamp();
    expect(after).not.toBe(before);
    await store.summary();
    expect(await store.changeStamp()).toBe(after);
  });
});

describe.each(kinds)('$name leases', (kind) => {
  it('a slide leased by one instance is offered to another only when the lease expires or its process died', async () => {
    const { location, store } = await storeWithSlides(kind, 3);
    const order = [0, 1, 2].map(shaOf);
    expect(await store.leaseNext(order)).toBe(order[0]);
    expect(await store.leaseNext(order)).toBe(order[0]); // our own lease: the same slide again
    const bobs = { technician: 'bob', pid: process.pid + 1, host: 'other-host', expiresAt: Date.now() + 60_000 };
    await store.putLease(order[1], bobs);
    await store.putLease(order[0], bobs);
    expect(await store.claim(order[0])).toEqual({ ok: false, reason: 'open', by: 'bob' });
    expect(await store.leaseNext(order)).toBe(order[2]);
    expect((await store.queueRows([order[0]], null))[0].openBy).toBe('bob');
    await store.putLease(order[0], { ...bobs, expiresAt: Date.now() - 1 });
    expect(await store.lease(order[0])).toBe(true);
    // On this host, a lease whose process has died is void at once.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('exit', r));
    await store.putLease(order[1], { ...bobs, host: (await import('node:os')).hostname(), pid: dead.pid! });
    expect(await store.lease(order[1])).toBe(true);
    // Releasing lets go of our own lease only.
    await store.putLease(order[2], bobs);
    await store.releaseLease(order[2]);
    expect(Object.keys(await store.liveLeases()).sort()).toEqual([order[0], order[1], order[2]].sort());
    await store.decide(decision(order[0]));
    await store.releaseLease(order[0]);
    const reopened = await kind.open(location);
    expect((await reopened.liveLeases())[order[0]]).toBeUndefined();
    expect(await reopened.claim(order[0], { unlabelledOnly: true })).toEqual({ ok: false, reason: 'decided', by: 'tester' });
    expect(await reopened.leaseNext([order[0]])).toBeNull();
  });

  it('a forged lease that runs further than a renewal can set holds no slide', async () => {
    const { store } = await storeWithSlides(kind, 2);
    const order = [0, 1].map(shaOf);
    const host = (await import('node:os')).hostname();
    // pid 1 always runs; an expiry in 2286 is what the forged row held.
    await store.putLease(order[0], { technician: 'mallory', pid: 1, host, expiresAt: 9_999_999_999_000 });
    await store.putLease(order[1], { technician: 'mallory', pid: 1, host: 'other-host', expiresAt: Date.now() + 24 * 3600_000 });
    expect((await store.queueRows(order, null)).map((r) => r.openBy)).toEqual([null, null]);
    expect(await store.claim(order[0])).toMatchObject({ ok: true });
    expect(await store.leaseNext([order[1]])).toBe(order[1]);
  });
});

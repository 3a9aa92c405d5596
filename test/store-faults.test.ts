// Faults an adversarial run found in the JSON store, each passed by the SQLite store: a stale lock whose
// pid was reused, a full disk during a decision, a torn journal line. And `store migrate`, which imports
// the old files, verified, and leaves them untouched.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateLegacy } from '../src/store/migrate-legacy.js';
import { openStore } from '../src/store/store.js';
import { tempDir } from './helpers.js';
import { cli } from './support/cli.js';
import { writeLegacyStore } from './support/legacy-store.js';
import { addSlides, shaOf } from './support/store.js';

const who = { technician: 'ann', displayName: null };
const digest = async (f: string) =>
  createHash('sha256')
    .update(await fs.readFile(f))
    .digest('hex');

/** A real small filesystem where this user may mount one (root), so that the disk really fills up; else null. */
function smallDisk(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const mounted: string[] = [];
afterAll(() => {
  for (const m of mounted) execFileSync('umount', ['-l', m], { stdio: 'ignore' });
});

describe('a full disk', () => {
  it('refuses the decision with a clear message, leaves nothing behind, and keeps the store working', async () => {
    const dir = path.join(await tempDir(), 'data');
    await fs.mkdir(dir);
    const real = smallDisk(dir);
    if (real) mounted.push(dir);
    else console.warn('full disk: cannot mount a small tmpfs here (not root); filling the store to a page limit instead');
    const file = path.join(dir, 'store.db');
    const store = await openStore(file, who);
    const slides = await addSlides(store, 40);
    const limited = real ? store : await openStore(file, who, { pragmas: [`max_page_count = ${Math.ceil((await fs.stat(file)).size / 4096) + 1}`] });
    // Fill the disk (or the store) with long notes until a decision no longer fits.
    let refused: Error | null = null;
    let made = 0;
    for (let i = 0; i < 40 && !refused; i++) {
      await limited.decide({ sha256: slides[i], action: 'correct', label: 'Pro', note: 'x'.repeat(6000), modelId: null, predicted: null, probabilities: null }).then(
        () => made++,
        (err: Error) => (refused = err),
      );
    }
    expect(refused, 'the disk never filled').not.toBeNull();
    expect(refused!.name).toBe('StoreFullError');
    expect(refused!.message).toMatch(/is full .*nothing was saved; free some space and try again/);
    // The refused decision is not in the store; the ones before it are; nothing else was left in the folder.
    expect((await limited.summary()).journalEntries).toBe(made);
    expect((await limited.decisionsOf(slides[made])).length).toBe(0);
    expect((await fs.readdir(dir)).filter((f) => !f.startsWith('store.db'))).toEqual([]);
    expect((await limited.verifyJournal()).ok).toBe(true);
    // Letting go of a lease on a full disk is refused, not a crash.
    await limited.releaseLease(slides[0]).catch((err: Error) => expect(err.name).toBe('StoreFullError'));
  });
});

describe('store migrate', () => {
  it('imports store.json and audit.jsonl, verified; the old files stay untouched', async () => {
    const dir = path.join(await tempDir(), 'data');
    const { file, journal } = await writeLegacyStore(dir, 30, 12);
    const before = [await digest(file), await digest(journal)];
    await expect(openStore(path.join(dir, 'store.db'), who)).rejects.toThrow(/run `slidetriage store migrate` to import them/);
    const store = await openStore(path.join(dir, 'store.db'), who, { migrating: true });
    const report = await migrateLegacy(store, file, journal);
    expect(report).toMatchObject({ slides: 30, files: 30, predictions: 30, entries: 12, torn: [] });
    expect(await store.summary()).toMatchObject({ slides: 30, labelled: 12, unlabelled: 18, journalEntries: 12, byLabel: { Pro: 12 } });
    expect(await store.verifyJournal()).toMatchObject({ ok: true, entries: 12 });
    expect(await store.queueOrder({ modelId: 'm@1', sort: 'uncertainty', state: 'to review', label: null })).toEqual(Array.from({ length: 18 }, (_, k) => shaOf(12 + k)));
    expect([await digest(file), await digest(journal)]).toEqual(before);
    await expect(migrateLegacy(store, file, journal)).rejects.toThrow(/already holds 30 slide\(s\) and 12 decision\(s\)/);
  });

  it('refuses a journal whose chain is broken, naming the entry at fault', async () => {
    const dir = path.join(await tempDir(), 'data');
    const { file, journal } = await writeLegacyStore(dir, 5, 4);
    const lines = (await fs.readFile(journal, 'utf8')).split('\n');
    lines[2] = lines[2].replace('"Pro"', '"Benign"');
    await fs.writeFile(journal, lines.join('\n'));
    const store = await openStore(path.join(dir, 'store.db'), who, { migrating: true });
    await expect(migrateLegacy(store, file, journal)).rejects.toThrow(/does not verify, so it is not imported: line 3 \(seq 3\): its content does not match its hash — edited/);
    expect((await store.summary()).slides).toBe(0);
  });

  it('through the command: status afterwards, audit export, and audit verify --file outside the store', async () => {
    const cwd = await tempDir();
    await writeLegacyStore(path.join(cwd, 'data'), 6, 3);
    expect((await cli(cwd, ['status'])).stderr).toMatch(/store migrate/);
    const migrated = await cli(cwd, ['store', 'migrate']);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/6 slides, 6 files, 6 predictions, 3 journal entries \(verified\)/);
    expect((await cli(cwd, ['status'])).stdout).toMatch(/journal: 3 decisions/);
    expect((await cli(cwd, ['audit', 'export', '--file', 'journal.jsonl'])).code).toBe(0);
    expect((await cli(cwd, ['audit', 'verify', '--file', 'journal.jsonl'])).stdout).toMatch(/3 entries, all hashes and links verify/);
    const exported = path.join(cwd, 'journal.jsonl');
    await fs.writeFile(exported, (await fs.readFile(exported, 'utf8')).replace('"Pro"', '"Benign"'));
    const bad = await cli(cwd, ['audit', 'verify', '--file', 'journal.jsonl']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/edited/);
  });
});

describe('a torn journal line', () => {
  it('a torn last line is set aside with a record of it; the entries before it are imported and verify', async () => {
    const dir = path.join(await tempDir(), 'data');
    const { file, journal } = await writeLegacyStore(dir, 5, 3);
    await fs.appendFile(journal, '{"sha256":"00000000000000000000000000000000000000000000000000000000000000'); // a power cut mid-line
    const store = await openStore(path.join(dir, 'store.db'), who, { migrating: true });
    const report = await migrateLegacy(store, file, journal);
    expect(report.torn).toEqual([{ line: 4, text: expect.stringMatching(/^\{"sha256":"0+$/) }]);
    expect(await store.verifyJournal()).toMatchObject({ ok: true, entries: 3 });
    // Decisions continue on the chain.
    await store.decide({ sha256: shaOf(4), action: 'confirm', label: 'Pre', modelId: null, predicted: 'Pre', probabilities: null });
    expect(await store.verifyJournal()).toMatchObject({ ok: true, entries: 4 });
  });

  it('an entry glued onto a torn piece (the next append after the crash) is recovered, and the piece set aside', async () => {
    const dir = path.join(await tempDir(), 'data');
    const { file, journal, entries } = await writeLegacyStore(dir, 5, 3);
    const lines = entries.map((e) => JSON.stringify(e));
    await fs.writeFile(journal, `${lines[0]}\n${lines[1]}\n{"sha256":"0000torn${lines[2]}\n`);
    const store = await openStore(path.join(dir, 'store.db'), who, { migrating: true });
    const report = await migrateLegacy(store, file, journal);
    expect(report.torn).toEqual([{ line: 3, text: '{"sha256":"0000torn' }]);
    expect(report.entries).toBe(3);
    expect(await store.verifyJournal()).toMatchObject({ ok: true, entries: 3 });
  });
});

describe('a stale lock of the JSON store', () => {
  it('two days old, naming a live pid (reused since): migrate and the commands go ahead at once; a fresh one is a writer', async () => {
    const cwd = await tempDir();
    const dir = path.join(cwd, 'data');
    const { file, journal } = await writeLegacyStore(dir, 3, 1);
    const lock = `${file}.lock`;
    await fs.mkdir(lock);
    await fs.writeFile(path.join(lock, 'owner.json'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), token: 'x', at: 0 }));
    const store = await openStore(path.join(dir, 'store.db'), who, { migrating: true });
    await expect(migrateLegacy(store, file, journal)).rejects.toThrow(new RegExp(`an older slidetriage \\(process ${process.pid} on .*\\) is writing`));
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
    await fs.utimes(lock, twoDaysAgo, twoDaysAgo);
    expect((await migrateLegacy(store, file, journal)).entries).toBe(1);
    const status = await cli(cwd, ['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/journal: 1 decisions/);
  });
});

import fs from 'node:fs/promises';
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/store.js';
import { FIXTURES, tempDir } from './helpers.js';
import { cli } from './support/cli.js';

describe('scan, status, export and audit verify', () => {
  it('accounts for every incoming file, exports the labels and verifies the journal', async () => {
    const cwd = await tempDir();
    const incoming = path.join(cwd, 'incoming');
    await fs.mkdir(incoming);
    await fs.copyFile(path.join(FIXTURES, 'cnmc/all/UID_14_26_2_all.bmp'), path.join(incoming, 'a.bmp'));
    await fs.copyFile(path.join(FIXTURES, 'cnmc/hem/UID_H11_4_1_hem.bmp'), path.join(incoming, 'b.bmp'));
    await fs.copyFile(path.join(FIXTURES, 'bad/empty.jpg'), path.join(incoming, 'c.jpg'));
    const scan = await cli(cwd, ['scan']);
    expect(scan.code, scan.stderr).toBe(0);
    expect(scan.stdout).toMatch(/files: 2 queued, 0 duplicate, 1 rejected/);
    expect(scan.stdout).toMatch(/rejected: empty 1/);

    const store = await openStore(path.join(cwd, 'data/store.db'));
    const [sha] = Object.values((await store.dump()).slides)
      .filter((s) => s.path === 'a.bmp')
      .map((s) => s.sha256);
    await store.decide({ sha256: sha, action: 'correct', label: 'Pro', note: 'said "pale", twice', modelId: 'm@1', predicted: 'Early', probabilities: { Early: 0.7, Pro: 0.3 } });

    const status = await cli(cwd, ['status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ slides: 2, labelled: 1, unlabelled: 1, byLabel: { Pro: 1 }, rejectedFiles: [{ path: 'c.jpg', code: 'empty' }] });
    const plain = await cli(cwd, ['status']);
    expect(plain.stdout).toMatch(/^rejected "c\.jpg": empty: the file is empty \(0 bytes\)$/m);

    const csv = await cli(cwd, ['export', '--format', 'csv', '--out', 'exported']);
    expect(csv.code).toBe(0);
    const lines = (await fs.readFile(path.join(cwd, 'exported/labels.csv'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`${sha},a.bmp,Pro,`);
    expect(lines[1]).toContain('"said ""pale"", twice"');

    const folders = await cli(cwd, ['export', '--format', 'folders', '--out', 'by-class']);
    expect(folders.code).toBe(0);
    expect(await fs.readdir(path.join(cwd, 'by-class/Pro'))).toEqual([`${sha.slice(0, 16)}.bmp`]);
    expect((await cli(cwd, ['export', '--format', 'xml', '--out', 'x'])).code).toBe(2);

    expect((await cli(cwd, ['audit', 'verify'])).code).toBe(0);
    // Someone edits the label in the database itself, past the table's append-only triggers.
    await store.close();
    const db = new Database(path.join(cwd, 'data/store.db'));
    db.exec("DROP TRIGGER journal_no_update; UPDATE journal SET label = 'Benign'");
    db.close();
    const bad = await cli(cwd, ['audit', 'verify']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/edited/);
  });

  it("audit verify also holds the queue's counts to the tables they are kept from", async () => {
    const cwd = await tempDir();
    await fs.mkdir(path.join(cwd, 'incoming'));
    await fs.copyFile(path.join(FIXTURES, 'samples', 'cnmc-all-14-26-2.jpg'), path.join(cwd, 'incoming', 'a.jpg'));
    expect((await cli(cwd, ['scan'])).code).toBe(0);
    expect((await cli(cwd, ['audit', 'verify'])).code).toBe(0);
    const db = new Database(path.join(cwd, 'data/store.db'));
    db.exec("UPDATE tallies SET n = n + 1 WHERE kind = 'files' AND key = 'queued'");
    db.close();
    const bad = await cli(cwd, ['audit', 'verify']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/journal .*: 0 entries, all hashes and links verify/);
    expect(bad.stdout).toMatch(/PROBLEM queue: tally files queued: kept 2, counted 1/);
  });
});

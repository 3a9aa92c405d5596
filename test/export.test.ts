// Issue #24, items 1 and 10, through the real commands: an export carries the pixels each label was given
// to, refuses to overwrite, and is written with the store's permissions.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/store.js';
import { FIXTURES, tempDir } from './helpers.js';
import { cli } from './support/cli.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A scanned incoming folder with a.jpg labelled Benign. */
async function labelledStore() {
  const cwd = await tempDir();
  const incoming = path.join(cwd, 'incoming');
  await fs.mkdir(incoming);
  await fs.copyFile(path.join(FIXTURES, 'samples/cnmc-all-14-26-2.jpg'), path.join(incoming, 'a.jpg'));
  expect((await cli(cwd, ['scan'])).code).toBe(0);
  const store = await openStore(path.join(cwd, 'data/store.db'));
  const sha = (await store.dump()).files['a.jpg'].sha256!;
  await store.decide({ sha256: sha, action: 'correct', label: 'Benign', modelId: null, predicted: null, probabilities: null });
  return { cwd, incoming, sha };
}

/** Replaces a.jpg's content with another image (a Pro cell, say) and rescans. */
async function replaceAndRescan(cwd: string, incoming: string) {
  const other = await fs.readFile(path.join(FIXTURES, 'samples/cnmc-hem-H11-10-1.png'));
  await fs.writeFile(path.join(incoming, 'a.jpg'), other);
  await fs.utimes(path.join(incoming, 'a.jpg'), new Date(), new Date(Date.now() - 60_000)); // settled
  expect((await cli(cwd, ['scan'])).code).toBe(0);
}

describe('export', () => {
  it('exports the image a label was given to, even after its incoming file was replaced (the store keeps a copy)', async () => {
    const { cwd, incoming, sha } = await labelledStore();
    await replaceAndRescan(cwd, incoming);
    const r = await cli(cwd, ['export', '--format', 'folders', '--out', 'out']);
    expect(r.code, r.stderr).toBe(0);
    const files = await fs.readdir(path.join(cwd, 'out/Benign'));
    expect(files).toEqual([`${sha.slice(0, 16)}.jpg`]);
    expect(sha256(await fs.readFile(path.join(cwd, 'out/Benign', files[0])))).toBe(sha);
  });

  it('refuses to export a replaced file when the store has no copy of it (a store from before copies)', async () => {
    const { cwd, incoming } = await labelledStore();
    await fs.rm(path.join(cwd, 'data/slides'), { recursive: true });
    await replaceAndRescan(cwd, incoming);
    const r = await cli(cwd, ['export', '--format', 'folders', '--out', 'out']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/a\.jpg is no longer the image that was recorded/);
    expect(await fs.readdir(path.join(cwd, 'out/Benign'))).toEqual([]);
  });

  it('refuses a folder that is not empty unless --force, and writes 0660 files in 0770 folders', async () => {
    const { cwd } = await labelledStore();
    await fs.mkdir(path.join(cwd, 'out'));
    await fs.writeFile(path.join(cwd, 'out/labels.csv'), 'somebody else’s work\n');
    const refused = await cli(cwd, ['export', '--format', 'csv', '--out', 'out']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not empty.*--force/);
    expect(await fs.readFile(path.join(cwd, 'out/labels.csv'), 'utf8')).toBe('somebody else’s work\n');
    expect((await cli(cwd, ['export', '--format', 'csv', '--out', 'out', '--force'])).code).toBe(0);
    expect(await fs.readFile(path.join(cwd, 'out/labels.csv'), 'utf8')).toMatch(/^sha256,/);

    expect((await cli(cwd, ['export', '--format', 'folders', '--out', 'fresh/by-class'])).code).toBe(0);
    const mode = async (p: string) => (await fs.stat(path.join(cwd, p))).mode & 0o777;
    expect(await mode('out/labels.csv')).toBe(0o660);
    expect(await mode('fresh/by-class')).toBe(0o770);
    expect(await mode('fresh/by-class/Benign')).toBe(0o770);
    const [image] = await fs.readdir(path.join(cwd, 'fresh/by-class/Benign'));
    expect(await mode(`fresh/by-class/Benign/${image}`)).toBe(0o660);
  });
});

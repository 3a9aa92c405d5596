// Issue #34, item 4: links planted inside the data folder are refused, never followed.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, tempDir } from './helpers.js';
import { cli } from './support/cli.js';

async function folderWithSlide() {
  const cwd = await tempDir();
  const elsewhere = await tempDir();
  await fs.mkdir(path.join(cwd, 'incoming'));
  const bytes = await fs.readFile(path.join(FIXTURES, 'samples/cnmc-all-14-26-2.jpg'));
  await fs.writeFile(path.join(cwd, 'incoming', 'a.jpg'), bytes);
  return { cwd, elsewhere, sha: createHash('sha256').update(bytes).digest('hex') };
}

describe('links inside the data folder', () => {
  it('a store.db that links elsewhere is refused, and nothing is created where it points', async () => {
    const { cwd, elsewhere } = await folderWithSlide();
    await fs.mkdir(path.join(cwd, 'data'));
    await fs.symlink(path.join(elsewhere, 'planted.db'), path.join(cwd, 'data', 'store.db'));
    const r = await cli(cwd, ['scan']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/store\.db is a symbolic link/);
    expect(await fs.readdir(elsewhere)).toEqual([]);
  });

  it('a slides/ folder that links elsewhere gets no copy, and the scan says why', async () => {
    const { cwd, elsewhere, sha } = await folderWithSlide();
    await fs.mkdir(path.join(cwd, 'data', 'slides'), { recursive: true });
    await fs.symlink(elsewhere, path.join(cwd, 'data', 'slides', sha.slice(0, 2)));
    const r = await cli(cwd, ['scan']);
    expect(r.stderr).toMatch(/is a symbolic link: slidetriage does not follow links inside its data folder/);
    expect(await fs.readdir(elsewhere)).toEqual([]);
  });
});

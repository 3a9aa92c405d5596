// The store's folders are owner and group only at every depth, whatever the umask.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDir } from '../src/store/files.js';
import { tempDir } from './helpers.js';

describe('ensureDir', () => {
  it('makes every missing folder 0770, the parents included, under a umask that takes the group bits', async () => {
    const root = await tempDir();
    const before = process.umask(0o027);
    try {
      await ensureDir(path.join(root, 'slides', 'ab'));
    } finally {
      process.umask(before);
    }
    for (const d of ['slides', 'slides/ab']) expect((await fs.stat(path.join(root, d))).mode & 0o777, d).toBe(0o770);
    expect((await fs.stat(root)).mode & 0o777).toBe(0o700); // a folder that was there is left as it was
  });
});

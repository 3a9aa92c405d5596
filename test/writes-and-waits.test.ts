// Issue #34, items 13–14: scan returns on a file that keeps changing; explain and model versions write with the
// store's modes (0660 files in 0770 folders) and explain never overwrites without --force.
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setCurrent } from '../src/engine/versions.js';
import { FIXTURES, makeBundle, tempDir } from './helpers.js';
import { cli } from './support/cli.js';

const mode = async (p: string) => (await fs.stat(p)).mode & 0o777;

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

describe('scan', () => {
  it('returns on a file that keeps changing, leaving it `changed`', async () => {
    const cwd = await tempDir();
    await fs.mkdir(path.join(cwd, 'incoming'));
    const growing = path.join(cwd, 'incoming', 'growing.jpg');
    await fs.writeFile(growing, '');
    const appender = setInterval(() => void fs.appendFile(growing, Buffer.alloc(100)), 100);
    try {
      const t0 = Date.now();
      const r = await cli(cwd, ['scan', '--set', 'images.settleSeconds=0.5']);
      expect(r.code, r.stderr).toBe(0);
      expect(Date.now() - t0).toBeLessThan(60_000);
      expect(r.stdout).toMatch(/1 still being written \(read again later\)/);
    } finally {
      clearInterval(appender);
    }
  }, 90_000);
});

describe("explain's and the versions' files", () => {
  it('explain refuses a folder that is not empty unless --force, and writes 0660 files in a 0770 folder', async () => {
    const cwd = await tempDir();
    const model = path.join(cwd, 'model');
    await makeBundle(model, { size: 32 });
    const args = ['explain', path.join(FIXTURES, 'samples/cnmc-all-14-26-2.jpg'), '--model', model, '--methods', 'gradcam', '--backend', 'wasm', '--out'];
    const first = await cli(cwd, [...args, 'out']);
    expect(first.code, first.stderr).toBe(0);
    const files = await fs.readdir(path.join(cwd, 'out'));
    expect(files.sort()).toEqual(['cnmc-all-14-26-2.gradcam.png', 'cnmc-all-14-26-2.json']);
    expect(await mode(path.join(cwd, 'out'))).toBe(0o770);
    for (const f of files) expect(await mode(path.join(cwd, 'out', f)), f).toBe(0o660);
    const before = await fs.stat(path.join(cwd, 'out', files[0]));
    const again = await cli(cwd, [...args, 'out']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is not empty: explain would replace same-named overlays there.*--force/);
    expect((await fs.stat(path.join(cwd, 'out', files[0]))).mtimeMs).toBe(before.mtimeMs);
    expect((await cli(cwd, [...args, 'out', '--force'])).code).toBe(0);
  });

  it('a model version and the versions folder get the store modes', async () => {
    const dir = await tempDir();
    const bundle = path.join(dir, 'versions', 'v1');
    const manifest = await makeBundle(bundle, { size: 32 });
    for (const f of await fs.readdir(bundle)) expect(await mode(path.join(bundle, f)), f).toBe(0o660);
    expect(await mode(bundle)).toBe(0o770);
    await setCurrent(path.join(dir, 'versions'), { id: manifest.id, dir: bundle } as never, 'promote', 'ann');
    expect(await mode(path.join(dir, 'versions'))).toBe(0o770);
    for (const f of (await fs.readdir(path.join(dir, 'versions'))).filter((f) => f !== 'v1')) expect(await mode(path.join(dir, 'versions', f)), f).toBe(0o660);
  });
});

// Issue #34, item 3: a class name is one safe path segment wherever it comes from, and export never writes
// outside --out, whatever a label in the store says.
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { classNameProblem } from '../src/core/class-name.js';
import { loadBundle } from '../src/engine/bundle.js';
import { scanClassFolders } from '../src/engine/train/dataset.js';
import { openStore } from '../src/store/store.js';
import { FIXTURES, makeBundle, tempDir } from './helpers.js';
import { cli } from './support/cli.js';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

describe('class names', () => {
  it('accept the names labs use and refuse path parts and control characters', () => {
    for (const ok of ['Benign', 'Pre-B', 'Pré B (early)', 'recreational vehicle, RV, R.V.', 'hem']) expect(classNameProblem(ok)).toBeNull();
    for (const bad of ['../../../../tmp/ESCAPED', 'a/b', 'a\\b', '.', '..', '', ' Benign', 'x\u001b]0;t\u0007', 'a\nb', 'x'.repeat(129)]) expect(classNameProblem(bad)).toMatch(/not allowed/);
  });

  it('import-weights refuses --classes with path parts, and writes no bundle', async () => {
    const cwd = await tempDir();
    const r = await cli(cwd, ['import-weights', 'lite0.tflite', '--arch', 'lite0', '--out', 'm', '--classes', '../../../../tmp/ESCAPED,Early']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/class name "..\/..\/..\/..\/tmp\/ESCAPED" is not allowed/);
    await expect(fs.stat(path.join(cwd, 'm'))).rejects.toThrow();
  });

  it('a manifest whose classes hold path parts does not load', async () => {
    const dir = await tempDir();
    await makeBundle(dir, { size: 32 });
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(file, 'utf8'));
    manifest.spec.classes[0] = '../../escaped';
    await fs.writeFile(file, JSON.stringify(manifest));
    await expect(loadBundle(dir)).rejects.toThrow(/class name|classes/);
  });

  it('a training folder whose class folder has a control character in its name is refused', async () => {
    const root = await tempDir();
    for (const c of ['Benign', 'Early\u001b[2J']) {
      await fs.mkdir(path.join(root, c));
      await fs.copyFile(path.join(FIXTURES, 'samples/cnmc-all-14-26-2.jpg'), path.join(root, c, 'a.jpg'));
    }
    await expect(scanClassFolders(root, ['jpg'])).rejects.toThrow(/not allowed/);
  });

  it('export --format folders never writes outside --out, whatever label the store holds', async () => {
    const cwd = await tempDir();
    await fs.mkdir(path.join(cwd, 'incoming'));
    await fs.copyFile(path.join(FIXTURES, 'samples/cnmc-all-14-26-2.jpg'), path.join(cwd, 'incoming', 'a.jpg'));
    await fs.copyFile(path.join(FIXTURES, 'samples/cnmc-hem-H11-10-1.png'), path.join(cwd, 'incoming', 'b.png'));
    expect((await cli(cwd, ['scan'])).code).toBe(0);
    const store = await openStore(path.join(cwd, 'data/store.db'));
    const files = (await store.dump()).files;
    await store.decide({ sha256: files['a.jpg'].sha256!, action: 'correct', label: '../../ESCAPED', modelId: null, predicted: null, probabilities: null });
    await store.decide({ sha256: files['b.png'].sha256!, action: 'correct', label: 'Benign', modelId: null, predicted: null, probabilities: null });
    await store.close();
    const r = await cli(cwd, ['export', '--format', 'folders', '--out', 'out/deep']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/class name "..\/..\/ESCAPED" is not allowed/);
    expect(await fs.readdir(path.join(cwd, 'out/deep'))).toEqual(['Benign']);
    expect(await fs.readdir(path.join(cwd, 'out'))).toEqual(['deep']);
    await expect(fs.stat(path.join(cwd, 'ESCAPED'))).rejects.toThrow();
  });
});

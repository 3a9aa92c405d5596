import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import { FIXTURES, makeBundle, tempDir } from './helpers.js';
import { loadBundle, saveBundle } from '../src/engine/bundle.js';
import { poolFeatures, splitAtFeatures } from '../src/engine/models/feature-split.js';
import { fitOod } from '../src/engine/ood/knn.js';
import { prepareImage } from '../src/ingest/image.js';
import { loadConfig } from '../src/config.js';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'slidetriage.js');
let bundle: string;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  bundle = await tempDir();
  await makeBundle(bundle, { size: 32 });
});

describe('slidetriage predict', () => {
  it('prints a result for every good fixture and a reason for every bad one, and exits 0', async () => {
    const { code, stdout, stderr } = await cli(['predict', FIXTURES, '--model', bundle, '--json', '--batch', '4', '--backend', 'wasm']);
    expect(code, stderr).toBe(0);
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const byName = new Map(rows.map((r) => [path.relative(FIXTURES, r.path), r]));
    const good = [...byName.entries()].filter(([, r]) => r.label);
    const bad = [...byName.entries()].filter(([, r]) => r.error);
    expect(good.length).toBe(25); // 20 C-NMC BMPs + 5 samples
    expect(good.every(([name]) => name.startsWith('cnmc/') || name.startsWith('samples/'))).toBe(true);
    for (const [, r] of good) {
      expect(Object.keys(r.probabilities)).toEqual(['Benign', 'Early', 'Pre', 'Pro']);
      expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(r.model).toMatch(/^test-untrained@/);
      expect(typeof r.ms).toBe('number');
    }
    const reasons = Object.fromEntries(bad.map(([name, r]) => [name, r.error.code]));
    expect(reasons).toMatchObject({
      'bad/empty.jpg': 'empty',
      'bad/truncated.jpg': 'undecodable',
      'bad/truncated.bmp': 'undecodable',
      'bad/text-named.png': 'content-mismatch',
      'bad/notes.txt': 'extension',
      'bad/bomb-50000x50000.png': 'too-many-pixels',
      'bad/one-pixel-1x1.png': 'too-small',
    });
    expect(stderr).toMatch(/backend wasm/);
  });

  it('writes CSV with a header and one row per file', async () => {
    const { code, stdout } = await cli(['predict', path.join(FIXTURES, 'samples'), path.join(FIXTURES, 'bad/empty.jpg'), '--model', bundle, '--csv']);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('path,sha256,label,p_Benign,p_Early,p_Pre,p_Pro,model,ms,ood_distance,unusual,error');
    expect(lines).toHaveLength(1 + 5 + 1);
    expect(lines.some((l) => l.includes('"') && l.includes('(tiff).TIF'))).toBe(false);
    expect(lines.at(-1)).toMatch(/empty: the file is empty/);
  });

  it("flags the images unlike those of the model's out-of-distribution index, and no others", async () => {
    // An index of the 10 'all' cells (nearest neighbour, a tight threshold): the 'hem' cells are another
    // set of images, ~2e-3 or more from every 'all' cell in this untrained model's features, the 'all'
    // cells themselves ~0 (float16 storage and ONNX Runtime against tfjs: < 1e-4).
    const { model, manifest } = await loadBundle(bundle);
    const split = splitAtFeatures(model);
    const config = loadConfig({ cwd: await tempDir() });
    const features: number[] = [];
    const allDir = path.join(FIXTURES, 'cnmc', 'all');
    for (const f of await fs.readdir(allDir)) {
      const { input } = await prepareImage(path.join(allDir, f), config.images, 32, 'stretch');
      const map = split.features.predict(tf.tensor4d(input, [1, 32, 32, 3])) as tf.Tensor;
      features.push(...poolFeatures(map.dataSync() as Float32Array, 1, map.shape[1]!, map.shape[2]!, map.shape[3]!, 'avg'));
    }
    const bank = new Float32Array(features);
    const index = fitOod(bank, bank, bank.length / 10, 1, 0.5);
    index.meta.threshold = 1e-3;
    const withIndex = await tempDir();
    await saveBundle(model, withIndex, { name: 'test-ood', spec: manifest.spec, ood: index });
    model.dispose();
    const { code, stdout, stderr } = await cli(['predict', path.join(FIXTURES, 'cnmc'), '--model', withIndex, '--json']);
    expect(code, stderr).toBe(0);
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(20);
    for (const r of rows) {
      expect(r.ood.threshold).toBe(0.001);
      expect(r.ood.unusual).toBe(r.path.includes(`${path.sep}hem${path.sep}`));
    }
    // The plain bundle has no index: null, and the text output has no warning.
    const plain = await cli(['predict', path.join(FIXTURES, 'cnmc', 'hem'), '--model', bundle, '--json']);
    expect(
      plain.stdout
        .trim()
        .split('\n')
        .every((l) => JSON.parse(l).ood === null),
    ).toBe(true);
    const text = await cli(['predict', path.join(FIXTURES, 'cnmc'), '--model', withIndex]);
    expect(
      text.stdout
        .split('\n')
        .filter((l) => l.includes('UNLIKE THE TRAINING IMAGES'))
        .every((l) => l.includes('_hem.bmp')),
    ).toBe(true);
    expect(text.stdout.split('\n').filter((l) => l.includes('UNLIKE THE TRAINING IMAGES'))).toHaveLength(10);
  });

  it('exits 2 on bad usage and 1 when the model cannot load', async () => {
    expect((await cli(['predict'])).code).toBe(2);
    expect((await cli(['predict', FIXTURES, '--json', '--csv'])).code).toBe(2);
    expect((await cli(['predict', FIXTURES, '--batch', 'zero'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    const badBackend = await cli(['predict', FIXTURES, '--backend', 'quantum']);
    expect(badBackend.code).toBe(2);
    expect(badBackend.stderr).toMatch(/backend/);
    const missing = await cli(['predict', FIXTURES, '--model', path.join(bundle, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/manifest\.json: missing/);
  });
  it('survives a command line of hundreds of paths (ONNX Runtime crashed on a ~10 KB one)', async () => {
    // `predict incoming/*.jpg` over a few hundred slides: 400 missing paths of ~50 bytes each and one image.
    const missing = Array.from({ length: 400 }, (_, i) => path.join('no-such-folder', `slide-${String(i).padStart(4, '0')}-from-the-microscope.jpg`));
    const image = path.join(FIXTURES, 'cnmc', 'all', 'UID_14_26_2_all.bmp');
    const { code, stdout, stderr } = await cli(['predict', image, ...missing, '--model', bundle, '--json']);
    expect(code, stderr).toBe(0);
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.filter((r) => r.error?.code === 'missing')).toHaveLength(400);
    expect(rows.filter((r) => r.label).map((r) => r.path)).toEqual([image]);
  });
  it('stops quietly with exit 0 when the reader of its output goes away (predict … | head -1)', async () => {
    const child = spawn(process.execPath, [BIN, 'predict', path.join(FIXTURES, 'cnmc'), '--model', bundle, '--json', '--batch', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Close our end after the first line, as `head -1` does.
    child.stdout.once('data', () => child.stdout.destroy());
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect(stderr).not.toMatch(/EPIPE|Unhandled|terminate called/);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });
});

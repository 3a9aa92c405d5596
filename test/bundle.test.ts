import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError, loadBundle, readManifest, saveBundle, toFloat16 } from '../src/engine/bundle.js';
import { fitOod } from '../src/engine/ood/knn.js';
import { makeBundle, tempDir } from './helpers.js';
import { createHash } from 'node:crypto';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function expectBundleError(dir: string, fileEnd: string, text: RegExp) {
  const err = await loadBundle(dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleError);
  expect((err as BundleError).file.endsWith(fileEnd)).toBe(true);
  expect((err as Error).message).toMatch(text);
}

/** Rewrites model.json and updates its sha in the manifest, so only the content check can catch it. */
async function editModelJson(dir: string, edit: (json: Record<string, unknown> & { weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[] }> }> }) => void) {
  const file = path.join(dir, 'model.json');
  const json = JSON.parse(await fs.readFile(file, 'utf8'));
  edit(json);
  const bytes = Buffer.from(JSON.stringify(json));
  await fs.writeFile(file, bytes);
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8'));
  manifest.files['model.json'] = { sha256: sha(bytes), bytes: bytes.length };
  await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
}

describe('model bundles', () => {
  it('round-trips: the loaded model gives the same outputs', async () => {
    const dir = await tempDir();
    const manifest = await makeBundle(dir, { size: 48 });
    expect(manifest.id).toMatch(/^test-untrained@[0-9a-f]{12}$/);
    expect(manifest.spec.classes).toEqual(['Benign', 'Early', 'Pre', 'Pro']);
    const a = await loadBundle(dir);
    const b = await loadBundle(dir);
    const x = tf.randomUniform([2, 48, 48, 3], 0, 1, 'float32', 3);
    const ya = (a.model.predict(x) as tf.Tensor).arraySync();
    const yb = (b.model.predict(x) as tf.Tensor).arraySync();
    expect(ya).toEqual(yb);
    expect(a.model.getLayer('top_activation')).toBeTruthy();
  });

  it('stores float16 weights that load back close to float32', async () => {
    const d32 = await tempDir();
    const d16 = await tempDir();
    await makeBundle(d32, { size: 32 });
    const m16 = await makeBundle(d16, { size: 32, float16: true });
    expect(m16.weightsDtype).toBe('float16');
    const s32 = (await fs.stat(path.join(d32, 'weights.bin'))).size;
    const s16 = (await fs.stat(path.join(d16, 'weights.bin'))).size;
    expect(s16 * 2).toBe(s32);
    const w32 = (await loadBundle(d32)).model.getLayer('top_conv').getWeights()[0].dataSync();
    const w16 = (await loadBundle(d16)).model.getLayer('top_conv').getWeights()[0].dataSync();
    let maxRel = 0;
    for (let i = 0; i < w32.length; i++) maxRel = Math.max(maxRel, Math.abs(w32[i] - w16[i]) / Math.max(Math.abs(w32[i]), 1e-3));
    expect(maxRel).toBeLessThan(1e-3);
  });

  it('converts to float16 exactly where binary16 is exact, with overflow to infinity', () => {
    const h = toFloat16(Float32Array.of(0, 1, -2, 0.5, 65504, 1e6, 2 ** -24, 1 / 3));
    expect(Array.from(h.slice(0, 7))).toEqual([0x0000, 0x3c00, 0xc000, 0x3800, 0x7bff, 0x7c00, 0x0001]);
    expect(h[7]).toBe(0x3555);
  });

  it('names a missing weight file', async () => {
    const dir = await tempDir();
    await makeBundle(dir, { size: 32 });
    await fs.rm(path.join(dir, 'weights.bin'));
    await expectBundleError(dir, 'weights.bin', /missing/);
  });

  it('names a corrupt weight file', async () => {
    const dir = await tempDir();
    await makeBundle(dir, { size: 32 });
    const file = path.join(dir, 'weights.bin');
    const bytes = await fs.readFile(file);
    bytes[100] ^= 0xff;
    await fs.writeFile(file, bytes);
    await expectBundleError(dir, 'weights.bin', /corrupt/);
  });

  it('keeps an out-of-distribution index: loads it back, names it when missing, and refuses one of the wrong width', async () => {
    const src = await tempDir();
    await makeBundle(src, { size: 32 });
    const { model, manifest } = await loadBundle(src);
    const random = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
    const save = async (dim: number) => {
      const dir = await tempDir();
      const index = fitOod(random(40 * dim), random(10 * dim).reverse(), dim, 3, 0.9);
      await saveBundle(model, dir, { name: 'with-index', spec: manifest.spec, ood: index });
      return { dir, index };
    };
    const { dir, index } = await save(1280);
    const back = await loadBundle(dir);
    expect(back.ood!.meta).toEqual(index.meta);
    let worst = 0;
    index.bank.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - back.ood!.bank[i]))));
    expect(worst).toBeLessThan(2 ** -11); // float16 of values in [−1, 1]
    back.model.dispose();
    await fs.rm(path.join(dir, 'ood.bin'));
    await expectBundleError(dir, 'ood.bin', /missing/);
    const narrow = await save(64);
    await expectBundleError(narrow.dir, 'ood.bin', /holds 64 features per image but the model's last feature map has 1280 channels/);
    model.dispose();
  });

  it('refuses weight paths that leave the bundle folder', async () => {
    const dir = await tempDir();
    await makeBundle(dir, { size: 32 });
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8'));
    manifest.files['../outside.bin'] = manifest.files['weights.bin'];
    await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    await expectBundleError(dir, 'manifest.json', /leaves the bundle folder/);
  });

  it('names model.json when a weight shape is wrong', async () => {
    const dir = await tempDir();
    await makeBundle(dir, { size: 32 });
    await editModelJson(dir, (json) => {
      const w = json.weightsManifest[0].weights.find((x) => x.name === 'top_conv/kernel')!;
      w.shape = [1, 1, 320, 1000];
    });
    await expectBundleError(dir, 'model.json', /bytes|shape/);
  });

  it('names model.json when the input size disagrees with the manifest', async () => {
    const dir = await tempDir();
    await makeBundle(dir, { size: 32 });
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(file, 'utf8'));
    manifest.spec.inputSize = 64;
    await fs.writeFile(file, JSON.stringify(manifest));
    await expectBundleError(dir, 'model.json', /input shape/);
  });

  it('names the manifest when it is not valid', async () => {
    const dir = await tempDir();
    await makeBundle(dir, { size: 32 });
    await fs.writeFile(path.join(dir, 'manifest.json'), '{"format": "something-else"');
    await expectBundleError(dir, 'manifest.json', /not valid JSON/);
    await fs.writeFile(path.join(dir, 'manifest.json'), '{"format": "something-else"}');
    await expectBundleError(dir, 'manifest.json', /not a valid slidetriage model manifest/);
    await expect(readManifest(path.join(dir, 'nope'))).rejects.toThrow(/missing/);
  });
});

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import { updateManifest } from '../src/engine/bundle.js';
import { FIXTURES, makeBundle, tempDir } from './helpers.js';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'slidetriage.js');

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

describe('slidetriage xai-eval', () => {
  it('prints one row per method and the random baseline, with masks from cells on black', async () => {
    const model = await tempDir();
    await makeBundle(model, { size: 32, classes: ['all', 'hem'] });
    // C-NMC cells are cut out on black: the images are their own localisation masks.
    const cnmc = path.join(FIXTURES, 'cnmc');
    const { stdout } = await run(
      process.execPath,
      [BIN, 'xai-eval', '--data', cnmc, '--masks', cnmc, '--limit', '2', '--methods', 'gradcam,cam,ig', '--set', 'explain.ig.steps=4', '--model', model, '--json'],
      { maxBuffer: 1 << 22 },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(result.images).toBe(2);
    expect(result.masks).toEqual({ used: 2, skippedNearlyEmpty: 0, missing: 0 });
    expect(result.rows.map((r: { method: string }) => r.method)).toEqual(['gradcam', 'cam', 'ig', 'random', 'random-smooth']);
    for (const r of result.rows) {
      expect(r.deletionAuc).toBeGreaterThanOrEqual(0);
      expect(r.insertionAuc).toBeLessThanOrEqual(1);
      expect(r.relevanceMass).toBeGreaterThanOrEqual(0);
      expect(r.cornerMass).toBeGreaterThanOrEqual(0);
      expect(r.cornerMass).toBeLessThanOrEqual(1);
      expect(r.ms).toBeGreaterThan(0);
    }
    const byMethod = Object.fromEntries(result.rows.map((r: { method: string }) => [r.method, r]));
    // At 32 px B0's last feature map is 1 × 1: every Grad-CAM and CAM map is constant and has no ranking to
    // compare, so the check leaves them out rather than scoring them 0 (a pass). IG's maps have pixels.
    for (const m of ['gradcam', 'cam']) expect(byMethod[m]).toMatchObject({ randomisationSpearman: null, randomisationConstant: 2 });
    expect(byMethod.ig.randomisationConstant).toBe(0);
    expect(Math.abs(byMethod.ig.randomisationSpearman)).toBeLessThanOrEqual(1);
    // Every figure with its interval over images, and each method held to its floor: maps at a CAM's scale
    // to the smooth random map, pixel-level maps to pixel noise; the floors themselves to none.
    for (const r of result.rows) {
      for (const k of ['deletionAuc', 'insertionAuc', 'relevanceMass'] as const) {
        const e = r.intervals[k];
        expect(e.mean).toBeCloseTo(r[k], 10);
        expect(e.low).toBeLessThanOrEqual(e.mean + 1e-12);
        expect(e.high).toBeGreaterThanOrEqual(e.mean - 1e-12);
      }
    }
    expect(result.rows.map((r: { vsFloor: { floor: string } | null }) => r.vsFloor?.floor ?? null)).toEqual(['random-smooth', 'random-smooth', 'random', null, null]);
    for (const m of ['gradcam', 'cam', 'ig']) {
      const c = byMethod[m].vsFloor;
      const floor = byMethod[c.floor];
      expect(c.deletionMargin.mean).toBeCloseTo(floor.deletionAuc - byMethod[m].deletionAuc, 10);
      expect(c.insertionMargin.mean).toBeCloseTo(byMethod[m].insertionAuc - floor.insertionAuc, 10);
      expect(c.beatsFloor).toBe(c.deletionMargin.low > 0 && c.insertionMargin.low > 0);
    }
  });

  it("measures a sampled method's agreement with itself at the next seed, and only a sampled method's", async () => {
    const model = await tempDir();
    await makeBundle(model, { size: 64, classes: ['all', 'hem'] });
    const cnmc = path.join(FIXTURES, 'cnmc');
    const args = ['xai-eval', '--data', cnmc, '--limit', '2', '--methods', 'gradcam,lime', '--set', 'explain.lime.samples=40', '--set', 'explain.lime.segments=12', '--model', model, '--json'];
    const { stdout } = await run(process.execPath, [BIN, ...args], { maxBuffer: 1 << 22 });
    const rows = Object.fromEntries(JSON.parse(stdout.trim().split('\n').at(-1)!).rows.map((r: { method: string }) => [r.method, r]));
    expect(rows.lime.runToRunSpearman).toBeGreaterThanOrEqual(-1);
    expect(rows.lime.runToRunSpearman).toBeLessThanOrEqual(1);
    for (const m of ['gradcam', 'random', 'random-smooth']) expect(rows[m].runToRunSpearman).toBeNull();
  });

  it('takes the validation part with --part val, to choose a method without the test part', async () => {
    const model = await tempDir();
    await makeBundle(model, { size: 32, classes: ['all', 'hem'] });
    const cnmc = path.join(FIXTURES, 'cnmc');
    const [all, hem] = await Promise.all(['all', 'hem'].map(async (c) => (await fs.readdir(path.join(cnmc, c))).sort().map((f) => `${c}/${f}`)));
    await fs.writeFile(path.join(model, 'split.json'), JSON.stringify({ train: [all[0], hem[0]], val: [all[1], hem[1], all[2]], test: [all[3], hem[3]] }));
    await updateManifest(model, { training: { dataDir: cnmc } });
    const evaluate = async (...extra: string[]) => {
      const { stdout } = await run(process.execPath, [BIN, 'xai-eval', '--data', cnmc, '--limit', '9', '--methods', 'gradcam', '--model', model, '--json', ...extra], { maxBuffer: 1 << 22 });
      return JSON.parse(stdout.trim().split('\n').at(-1)!) as { images: number; source: string };
    };
    expect(await evaluate()).toMatchObject({ images: 2, source: "the model's test part" });
    expect(await evaluate('--part', 'val')).toMatchObject({ images: 3, source: "the model's validation part" });
    const wrong = await run(process.execPath, [BIN, 'xai-eval', '--data', cnmc, '--part', 'train', '--model', model]).catch((e: { code: number; stderr: string }) => e);
    expect(wrong).toMatchObject({ code: 2 });
    expect((wrong as { stderr: string }).stderr).toMatch(/--part takes test or val, not "train"/);
  });
});

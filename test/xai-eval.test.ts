import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
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
  });
});

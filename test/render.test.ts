import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { colour, colourise, overlay } from '../src/core/overlay.js';
import { FIXTURES, makeBundle, tempDir } from './helpers.js';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'slidetriage.js');

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

describe('drawing heatmaps', () => {
  it('colormaps run from dark blue to dark red', () => {
    expect(colour('jet', 0)).toEqual([0, 0, 128]);
    expect(colour('jet', 1)).toEqual([128, 0, 0]);
    expect(colour('jet', 0.5)).toEqual([128, 255, 128]);
    // Turbo: near-black at 0, green in the middle, dark red at 1.
    expect(colour('turbo', 0).reduce((a, b) => a + b, 0)).toBeLessThan(120);
    const [rm, gm, bm] = colour('turbo', 0.5);
    expect(gm).toBeGreaterThan(Math.max(rm, bm));
    const [r1, g1, b1] = colour('turbo', 1);
    expect(r1).toBeGreaterThan(g1 + b1);
  });

  it('scales the map to the image and blends it with alpha', async () => {
    const values = Float32Array.from([0, 1, 1, 0]);
    const heat = await colourise(values, 2, 20, 10, 'jet');
    expect(heat.length).toBe(20 * 10 * 3);
    expect([heat[0], heat[1], heat[2]]).toEqual([0, 0, 128]); // top-left corner: 0
    const img = { width: 20, height: 10, data: Buffer.alloc(600, 200) };
    const blended = await overlay(img, values, 2, 'jet', 0.5);
    expect(blended[0]).toBe(100); // 0.5·200 + 0.5·0
    expect(blended[2]).toBe(164); // 0.5·200 + 0.5·128
  });

  it('slidetriage explain writes one overlay per method and the figures', async () => {
    const model = await tempDir();
    await makeBundle(model, { size: 32 });
    const out = await tempDir();
    const { stdout } = await run(process.execPath, [
      BIN,
      'explain',
      path.join(FIXTURES, 'samples/cnmc-hem-H11-10-1.png'),
      '--methods',
      'gradcam,cam,lime',
      '--set',
      'explain.lime.samples=30',
      '--model',
      model,
      '--out',
      out,
    ]);
    expect(stdout).toMatch(/gradcam \d+ ms, cam \d+ ms, lime \d+ ms/);
    const files = (await fs.readdir(out)).sort();
    expect(files).toEqual(['cnmc-hem-H11-10-1.cam.png', 'cnmc-hem-H11-10-1.gradcam.png', 'cnmc-hem-H11-10-1.json', 'cnmc-hem-H11-10-1.lime.png']);
    const meta = await sharp(path.join(out, 'cnmc-hem-H11-10-1.lime.png')).metadata();
    expect([meta.width, meta.height]).toEqual([450, 450]);
    const json = JSON.parse(await fs.readFile(path.join(out, 'cnmc-hem-H11-10-1.json'), 'utf8'));
    expect(json.explanations.find((e: { method: string }) => e.method === 'lime').params.samples).toBe(30);
    await expect(run(process.execPath, [BIN, 'explain', FIXTURES, '--methods', 'gradcam,shap', '--out', out])).rejects.toMatchObject({ code: 2 });
  });
});

describe('terminal images', () => {
  it('draws half blocks in 24-bit colour from the image itself: colours and layout come back from the cells', async () => {
    const { drawHalfBlocks, decodeHalfBlocks } = await import('../src/components/halfblocks.js');
    const { pictureSize } = await import('../src/components/picture.js');
    const file = path.join(FIXTURES, 'samples', 'cnmc-hem-H11-10-1.png');
    const cells = await drawHalfBlocks(file, 40, 12);
    expect([cells.columns, cells.rows]).toEqual([24, 12]); // a square image in 40 × 12 cells: 24 × 24 pixels
    expect(pictureSize({ protocol: 'blocks', cell: null }, 224, 224, 18, 9)).toMatchObject({ columns: 18, rows: 9 });
    const decoded = decodeHalfBlocks(cells.lines);
    expect([decoded.columns, decoded.rows]).toEqual([24, 12]);
    // Against the same image scaled by sharp: every channel within rounding, and colours off the 256 cube.
    const expected = await sharp(file).removeAlpha().resize(24, 24, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
    expect(Math.max(...decoded.rgb.map((v, i) => Math.abs(v - expected[i])))).toBe(0);
    const cube = new Set([0, 95, 135, 175, 215, 255]);
    expect(decoded.rgb.some((v) => !cube.has(v))).toBe(true);
  });
});

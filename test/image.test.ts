import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeRgb, ImageRejected, prepareImage, readImageFile, toModelInput } from '../src/ingest/image.js';
import { FIXTURES, tempDir } from './helpers.js';

const limits = { extensions: ['jpg', 'jpeg', 'png', 'bmp', 'tif', 'tiff'], maxPixels: 64_000_000, maxBytes: 256 * 1024 * 1024 };

async function rejection(file: string, l = limits): Promise<ImageRejected> {
  try {
    await prepareImage(file, l, 64, 'stretch');
  } catch (err) {
    if (err instanceof ImageRejected) return err;
    throw err;
  }
  throw new Error(`${file} was accepted`);
}

describe('reading slide images', () => {
  it('decodes BMP (which sharp cannot) to the same pixels as the raw file', async () => {
    const file = path.join(FIXTURES, 'cnmc/all/UID_14_26_2_all.bmp');
    const read = await readImageFile(file, limits);
    expect(read.format).toBe('bmp');
    const rgb = await decodeRgb(read, limits);
    expect([rgb.width, rgb.height]).toEqual([450, 450]);
    // 24-bit BMP rows are stored bottom-up as BGR, padded to 4 bytes.
    const offset = read.bytes.readUInt32LE(10);
    const row = Math.ceil((450 * 3) / 4) * 4;
    for (const [x, y] of [
      [225, 225],
      [100, 300],
      [0, 0],
      [449, 449],
    ]) {
      const p = offset + (449 - y) * row + x * 3;
      const expected = [read.bytes[p + 2], read.bytes[p + 1], read.bytes[p]];
      const q = (y * 450 + x) * 3;
      expect([rgb.data[q], rgb.data[q + 1], rgb.data[q + 2]]).toEqual(expected);
    }
  });

  it('accepts every extension in any case and scales to [0,1] at the model size', async () => {
    for (const name of ['cnmc-all-14-26-2.jpg', 'cnmc-hem-H11-10-1.png', 'cnmc hem H11 10 1 (tiff).TIF', 'exif-orientation-8.JPEG', 'ünïcödé slide №1.png']) {
      const img = await prepareImage(path.join(FIXTURES, 'samples', name), limits, 32, 'stretch');
      expect(img.input.length).toBe(32 * 32 * 3);
      expect(Math.max(...img.input)).toBeLessThanOrEqual(1);
      expect(Math.min(...img.input)).toBeGreaterThanOrEqual(0);
      expect(img.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('applies EXIF orientation', async () => {
    const original = await decodeRgb(await readImageFile(path.join(FIXTURES, 'cnmc/all/UID_14_26_2_all.bmp'), limits), limits);
    const file = path.join(FIXTURES, 'samples/exif-orientation-8.JPEG');
    const oriented = await decodeRgb(await readImageFile(file, limits), limits);
    const stored = await sharp(file).raw().toBuffer(); // no .rotate(): pixels as stored
    const diff = (a: Buffer, b: Buffer) => {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
      return s / a.length;
    };
    expect(diff(oriented.data, original.data)).toBeLessThan(3);
    expect(diff(stored, original.data)).toBeGreaterThan(diff(oriented.data, original.data) * 2);
  });

  it('letterboxes on black when asked', async () => {
    const dir = await tempDir();
    const wide = path.join(dir, 'wide.png');
    await sharp({ create: { width: 200, height: 100, channels: 3, background: { r: 255, g: 255, b: 255 } } })
      .png()
      .toFile(wide);
    const boxed = await prepareImage(wide, limits, 20, 'letterbox');
    expect(boxed.input[0]).toBe(0); // top-left is padding
    expect(boxed.input[(10 * 20 + 10) * 3]).toBeCloseTo(1, 2); // centre is image
    const stretched = await prepareImage(wide, limits, 20, 'stretch');
    expect(stretched.input[0]).toBeCloseTo(1, 2);
  });

  it.each([
    ['bad/empty.jpg', 'empty'],
    ['bad/truncated.jpg', 'undecodable'],
    ['bad/truncated.bmp', 'undecodable'],
    ['bad/text-named.png', 'content-mismatch'],
    ['bad/notes.txt', 'extension'],
    ['bad/bomb-50000x50000.png', 'too-many-pixels'],
    ['bad/one-pixel-1x1.png', 'too-small'],
    ['no-such-file.jpg', 'unreadable'],
  ])('rejects %s as %s with a message', async (name, code) => {
    const err = await rejection(path.join(FIXTURES, name));
    expect(err.code).toBe(code);
    expect(err.message.length).toBeGreaterThan(10);
  });

  it('rejects SVG, GIF and WebP content under a slide name as content-mismatch, saying what it is', async () => {
    const dir = await tempDir();
    const svg = path.join(dir, 'filter.jpg');
    // A tiny SVG with a heavy filter: libvips would rasterise it for minutes.
    await fs.writeFile(
      svg,
      '<svg xmlns="http://www.w3.org/2000/svg" width="20000" height="20000"><filter id="f"><feTurbulence baseFrequency="0.9" numOctaves="10"/></filter><rect width="100%" height="100%" filter="url(#f)"/></svg>',
    );
    const pixel = sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 10, b: 10 } } });
    const gif = path.join(dir, 'cell.jpg');
    await fs.writeFile(gif, await pixel.clone().gif().toBuffer());
    const webp = path.join(dir, 'cell.png');
    await fs.writeFile(webp, await pixel.clone().webp().toBuffer());
    const jpegNamedPng = path.join(dir, 'really-jpeg.png');
    await fs.writeFile(jpegNamedPng, await pixel.clone().jpeg().toBuffer());
    for (const [file, what] of [
      [svg, /SVG/],
      [gif, /GIF/],
      [webp, /WebP/],
    ] as const) {
      const err = await rejection(file);
      expect(err.code, file).toBe('content-mismatch');
      expect(err.message).toMatch(what);
    }
    // One of the four formats under another of their names is a slide.
    expect((await prepareImage(jpegNamedPng, limits, 16, 'stretch')).width).toBe(32);
  });

  it('applies the configured pixel and byte limits', async () => {
    const file = path.join(FIXTURES, 'cnmc/hem/UID_H11_4_1_hem.bmp');
    expect((await rejection(file, { ...limits, maxPixels: 450 * 450 - 1 })).code).toBe('too-many-pixels');
    expect((await rejection(path.join(FIXTURES, 'samples/cnmc-hem-H11-10-1.png'), { ...limits, maxPixels: 1000 })).code).toBe('too-many-pixels');
    expect((await rejection(file, { ...limits, maxBytes: 1000 })).code).toBe('too-large');
  });

  it('rejects a folder given as a file, and a file that grows while it is read', async () => {
    const dir = await tempDir();
    const folder = path.join(dir, 'folder.jpg');
    await fs.mkdir(folder);
    expect((await rejection(folder)).code).toBe('not-a-file');
    // A writer appends while we read: the size or mtime check catches it.
    const growing = path.join(dir, 'growing.jpg');
    const bytes = await fs.readFile(path.join(FIXTURES, 'samples/cnmc-all-14-26-2.jpg'));
    await fs.writeFile(growing, bytes.subarray(0, 1000));
    const handle = await fs.open(growing, 'a');
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        await handle.write(bytes.subarray(0, 64));
        await new Promise((r) => setImmediate(r));
      }
    })();
    let changed = 0;
    for (let i = 0; i < 20; i++) {
      try {
        await readImageFile(growing, limits);
      } catch (err) {
        if (err instanceof ImageRejected && err.code === 'changed') changed++;
      }
    }
    stop = true;
    await writer;
    await handle.close();
    expect(changed).toBeGreaterThan(0);
  });

  it('keeps pixel values when resizing to the same size', async () => {
    const data = Buffer.from([0, 128, 255, 255, 0, 128, 10, 20, 30, 40, 50, 60]);
    const out = await toModelInput({ data, width: 2, height: 2 }, 2, 'stretch');
    expect(Array.from(out).map((v) => Math.round(v * 255))).toEqual(Array.from(data));
  });
});

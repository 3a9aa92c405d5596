// Regenerates fixtures/samples and fixtures/bad from the C-NMC BMPs in fixtures/cnmc (run with tsx).
// Kept so that anyone can see exactly how each bad file was made.
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { decodeRgb, readImageFile } from '../src/ingest/image.js';

const root = path.resolve(import.meta.dirname, '..', 'fixtures');
const limits = { extensions: ['bmp'], maxPixels: 1e8, maxBytes: 1e9 };

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A PNG whose header claims width × height but whose data is a few bytes: a decompression bomb's shape. */
function bombPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const idat = zlib.deflateSync(Buffer.alloc(1024));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

async function main() {
  const samples = path.join(root, 'samples');
  const bad = path.join(root, 'bad');
  await fs.mkdir(samples, { recursive: true });
  await fs.mkdir(bad, { recursive: true });
  const all = await readImageFile(path.join(root, 'cnmc/all/UID_14_26_2_all.bmp'), limits);
  const hem = await readImageFile(path.join(root, 'cnmc/hem/UID_H11_10_1_hem.bmp'), limits);
  const allRgb = await decodeRgb(all, limits);
  const hemRgb = await decodeRgb(hem, limits);
  const raw = (img: typeof allRgb) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });

  await raw(allRgb).jpeg({ quality: 90 }).toFile(path.join(samples, 'cnmc-all-14-26-2.jpg'));
  await raw(hemRgb).png().toFile(path.join(samples, 'cnmc-hem-H11-10-1.png'));
  await raw(hemRgb).tiff().toFile(path.join(samples, 'cnmc hem H11 10 1 (tiff).TIF'));
  // Stored rotated 90° clockwise with EXIF orientation 8, so a correct reader shows it upright.
  await raw(allRgb).rotate(90).withMetadata({ orientation: 8 }).jpeg({ quality: 90 }).toFile(path.join(samples, 'exif-orientation-8.JPEG'));
  await raw(allRgb).resize(225, 225).png().toFile(path.join(samples, 'ünïcödé slide №1.png'));

  const jpeg = await raw(allRgb).jpeg({ quality: 90 }).toBuffer();
  await fs.writeFile(path.join(bad, 'empty.jpg'), Buffer.alloc(0));
  await fs.writeFile(path.join(bad, 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length * 0.4)));
  await fs.writeFile(path.join(bad, 'text-named.png'), 'this is not an image, only text with a .png name\n');
  await fs.writeFile(path.join(bad, 'notes.txt'), 'a note that someone left in the slide folder\n');
  await fs.writeFile(path.join(bad, 'bomb-50000x50000.png'), bombPng(50_000, 50_000));
  await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 200, g: 100, b: 150 } } })
    .png()
    .toFile(path.join(bad, 'one-pixel-1x1.png'));
  await fs.writeFile(path.join(bad, 'truncated.bmp'), all.bytes.subarray(0, Math.floor(all.bytes.length / 2)));
  // Other formats under slide names: libvips would decode them (an SVG filter for minutes), so they must be
  // refused by their first bytes.
  const small = raw(allRgb).resize(64, 64);
  await fs.writeFile(path.join(bad, 'svg-named.jpg'), '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle cx="32" cy="32" r="20" fill="purple"/></svg>\n');
  await small.clone().gif().toFile(path.join(bad, 'gif-named.jpg'));
  await small.clone().webp().toFile(path.join(bad, 'webp-named.png'));
  // A name that is also a property of every JavaScript object: it must be a key like any other.
  await small.clone().png().toFile(path.join(bad, '__proto__'));
}

await main();

// Reading slide images: every file either becomes a decoded RGB image or a rejection with a reason.
// sharp decodes JPEG, PNG and TIFF (EXIF orientation applied); BMP, which sharp cannot read, goes
// through bmp-ts after its header has been checked against the pixel limit.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decode as decodeBmp } from 'bmp-ts';
import sharp from 'sharp';
import { onDisk } from './byte-names.js';

/** Smaller than this on either side, an image cannot hold a cell worth classifying. */
export const MIN_SIDE = 16;

export type RejectionCode = 'too-small' | 'extension' | 'not-a-file' | 'unreadable' | 'empty' | 'too-large' | 'too-many-pixels' | 'undecodable' | 'changed' | 'content-mismatch' | 'timeout';

export class ImageRejected extends Error {
  override name = 'ImageRejected';
  constructor(
    readonly code: RejectionCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ImageLimits {
  extensions: readonly string[];
  maxPixels: number;
  maxBytes: number;
  /** A decode that takes longer is stopped and rejected as `timeout` (whole seconds, as sharp takes them; default DECODE_SECONDS). */
  decodeSeconds?: number;
  /** A file modified this recently that does not read as a whole image is still being written (default SETTLE_SECONDS in ingest.ts). */
  settleSeconds?: number;
}

export const DECODE_SECONDS = 20;

/** The four slide formats by their first bytes. */
const SLIDE_FORMATS: Array<[string, number[]]> = [
  ['JPEG', [0xff, 0xd8, 0xff]],
  ['PNG', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ['BMP', [0x42, 0x4d]],
  ['TIFF', [0x49, 0x49, 0x2a, 0x00]],
  ['TIFF', [0x4d, 0x4d, 0x00, 0x2a]],
];

/**
 * What the bytes are, whatever the extension says: one of the slide formats, or a name for anything else.
 * libvips sniffs content and decodes SVG, GIF, WebP, PDF … under any name (a 600-byte SVG filter took
 * minutes), so only these four are let through to it.
 */
export function sniffContent(bytes: Buffer): { slide: boolean; what: string } {
  const starts = (sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  const hit = SLIDE_FORMATS.find(([, sig]) => starts(sig));
  if (hit) return { slide: true, what: hit[0] };
  const ascii = (at: number, n: number) => bytes.subarray(at, at + n).toString('latin1');
  if (ascii(0, 4) === 'GIF8') return { slide: false, what: 'a GIF image' };
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return { slide: false, what: 'a WebP image' };
  if (ascii(0, 5) === '%PDF-') return { slide: false, what: 'a PDF document' };
  if (ascii(4, 4) === 'ftyp') return { slide: false, what: `an ISO media file (${ascii(8, 4).trim() || 'unknown brand'}: HEIC, AVIF or video)` };
  const text = bytes
    .subarray(0, 512)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (/^<(\?xml|svg|!DOCTYPE svg)/i.test(text)) return { slide: false, what: 'SVG or other XML' };
  // Printable ASCII, tab, CR and LF only in the first 64 bytes: text.
  if (bytes.subarray(0, 64).every((b) => b === 9 || b === 10 || b === 13 || (b >= 0x20 && b <= 0x7e))) return { slide: false, what: 'text' };
  return { slide: false, what: 'no image format this program reads' };
}

export interface ImageFile {
  path: string;
  bytes: Buffer;
  sha256: string;
  format: 'bmp' | 'sharp';
  /** The longest a decode of it may take. */
  decodeSeconds?: number;
}

export interface RgbImage {
  /** Interleaved RGB, 8 bits per channel, rows top to bottom. */
  data: Buffer;
  width: number;
  height: number;
}

export function extensionOf(file: string): string {
  return path.extname(file).slice(1).toLowerCase();
}

export function hasImageExtension(file: string, extensions: readonly string[]): boolean {
  return extensions.includes(extensionOf(file));
}

/** Reads the whole file once, hashes it, and rejects files that change while being read. */
export async function readImageFile(file: string, limits: ImageLimits): Promise<ImageFile> {
  const ext = extensionOf(file);
  if (!limits.extensions.includes(ext)) {
    throw new ImageRejected('extension', `unsupported extension "${ext ? '.' + ext : '(none)'}"; accepted: ${limits.extensions.join(', ')}`);
  }
  let before;
  try {
    before = await fs.stat(onDisk(file));
  } catch (err) {
    throw new ImageRejected('unreadable', `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!before.isFile()) throw new ImageRejected('not-a-file', 'not a regular file');
  if (before.size === 0) throw new ImageRejected('empty', 'the file is empty (0 bytes)');
  if (before.size > limits.maxBytes) throw new ImageRejected('too-large', `the file has ${before.size} bytes, more than the limit of ${limits.maxBytes}`);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(onDisk(file));
  } catch (err) {
    throw new ImageRejected('unreadable', `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const after = await fs.stat(onDisk(file)).catch(() => null);
  if (!after || after.size !== before.size || after.mtimeMs !== before.mtimeMs || bytes.length !== before.size) {
    throw new ImageRejected('changed', 'the file changed while it was being read; it will be read again once it is complete');
  }
  return imageFromBytes(file, bytes, limits);
}

/** Bytes already read (a kept copy of a slide) → an image file: its content checked and hashed. */
export function imageFromBytes(file: string, bytes: Buffer, limits: Pick<ImageLimits, 'decodeSeconds'>): ImageFile {
  const content = sniffContent(bytes);
  if (!content.slide) throw new ImageRejected('content-mismatch', `the content is ${content.what}, not JPEG, PNG, BMP or TIFF (whatever the name says)`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { path: file, bytes, sha256, format: isBmp(bytes) ? 'bmp' : 'sharp', decodeSeconds: limits.decodeSeconds ?? DECODE_SECONDS };
}

/** The usual extension of a slide format, by content: JPEG → jpg, and so on. */
export function extensionFor(bytes: Buffer): string {
  return { JPEG: 'jpg', PNG: 'png', BMP: 'bmp', TIFF: 'tif' }[sniffContent(bytes).what] ?? 'bin';
}

function isBmp(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d; // "BM"
}

/** Width and height from a BMP header, and whether the pixel data the header promises is all there. */
function bmpHeader(bytes: Buffer): { width: number; height: number; complete: boolean } {
  if (bytes.length < 30) throw new ImageRejected('undecodable', 'BMP header is truncated');
  const offset = bytes.readUInt32LE(10);
  const width = bytes.readInt32LE(18);
  const height = Math.abs(bytes.readInt32LE(22));
  const bitsPerPixel = bytes.readUInt16LE(28);
  const compression = bytes.length >= 34 ? bytes.readUInt32LE(30) : 0;
  if (width <= 0 || height <= 0) throw new ImageRejected('undecodable', `BMP header gives an impossible size ${width}×${height}`);
  const rowBytes = Math.ceil((width * bitsPerPixel) / 32) * 4;
  // Compressed BMPs (RLE) have no fixed size; bmp-ts reports their truncation itself.
  const complete = compression === 1 || compression === 2 || offset + rowBytes * height <= bytes.length;
  return { width, height, complete };
}

/** Decodes to 8-bit RGB with EXIF orientation applied. Rejects undecodable data and decompression bombs. */
export async function decodeRgb(file: ImageFile, limits: Pick<ImageLimits, 'maxPixels'>): Promise<RgbImage> {
  if (file.format === 'bmp') return decodeBmpRgb(file.bytes, limits.maxPixels);
  let meta;
  try {
    meta = await sharp(file.bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageRejected('undecodable', `not a readable image: ${firstLine(err)}`);
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > limits.maxPixels) {
    throw new ImageRejected('too-many-pixels', `${meta.width}×${meta.height} is ${pixels} pixels, more than the limit of ${limits.maxPixels}`);
  }
  try {
    const { data, info } = await sharp(file.bytes, { limitInputPixels: limits.maxPixels, failOn: 'error' })
      .timeout({ seconds: file.decodeSeconds ?? DECODE_SECONDS })
      .rotate() // EXIF orientation
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data, width: info.width, height: info.height };
  } catch (err) {
    if (/timeout/i.test(firstLine(err))) throw new ImageRejected('timeout', `decoding took more than ${file.decodeSeconds ?? DECODE_SECONDS} s: stopped`);
    throw new ImageRejected('undecodable', `cannot decode the image data: ${firstLine(err)}`);
  }
}

function decodeBmpRgb(bytes: Buffer, maxPixels: number): RgbImage {
  const header = bmpHeader(bytes);
  const pixels = header.width * header.height;
  if (pixels > maxPixels) throw new ImageRejected('too-many-pixels', `${header.width}×${header.height} is ${pixels} pixels, more than the limit of ${maxPixels}`);
  if (!header.complete) throw new ImageRejected('undecodable', 'BMP pixel data is truncated');
  let rgba: Buffer;
  try {
    rgba = decodeBmp(bytes, { toRGBA: true }).data;
  } catch (err) {
    throw new ImageRejected('undecodable', `cannot decode the BMP data: ${firstLine(err)}`);
  }
  const rgb = Buffer.allocUnsafe(pixels * 3);
  for (let i = 0, j = 0; i < pixels; i++, j += 4) {
    rgb[i * 3] = rgba[j];
    rgb[i * 3 + 1] = rgba[j + 1];
    rgb[i * 3 + 2] = rgba[j + 2];
  }
  return { data: rgb, width: header.width, height: header.height };
}

export type ResizeMode = 'stretch' | 'letterbox';

/** Resizes to size × size RGB bytes: stretched as in the paper, or letterboxed on black. */
export async function resizeRgb(image: RgbImage, size: number, mode: ResizeMode): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(size, size, { fit: mode === 'stretch' ? 'fill' : 'contain', background: { r: 0, g: 0, b: 0 }, kernel: 'lanczos3' })
    .raw()
    .toBuffer();
}

/** Resizes to the model input and scales to [0,1]. */
export async function toModelInput(image: RgbImage, size: number, mode: ResizeMode): Promise<Float32Array> {
  const data = await resizeRgb(image, size, mode);
  const out = new Float32Array(size * size * 3);
  for (let i = 0; i < out.length; i++) out[i] = data[i] / 255;
  return out;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}

export interface PreparedImage {
  path: string;
  sha256: string;
  width: number;
  height: number;
  input: Float32Array;
}

/** File → model input, or an ImageRejected naming why not. */
export async function prepareImage(file: string, limits: ImageLimits, size: number, mode: ResizeMode): Promise<PreparedImage> {
  const read = await readImageFile(file, limits);
  const rgb = await decodeRgb(read, limits);
  if (rgb.width < MIN_SIDE || rgb.height < MIN_SIDE) {
    throw new ImageRejected('too-small', `the image is only ${rgb.width}×${rgb.height} pixels; a slide needs at least ${MIN_SIDE}×${MIN_SIDE}`);
  }
  return { path: file, sha256: read.sha256, width: rgb.width, height: rgb.height, input: await toModelInput(rgb, size, mode) };
}

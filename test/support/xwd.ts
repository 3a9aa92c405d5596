// A screen dump from `xwd -root` (X Window Dump, ZPixmap, 24/32 bits a pixel) as RGB pixels, so that a
// test can compare what a real terminal drew with the image it was sent. Only what xwd writes on an
// Xvfb screen is read: 24 or 32 bits a pixel, masks 0xff0000/0xff00/0xff, either byte order.
import fs from 'node:fs';

export interface Screenshot {
  width: number;
  height: number;
  /** width × height × 3 bytes. */
  rgb: Uint8Array;
}

export function readXwd(file: string): Screenshot {
  const buf = fs.readFileSync(file);
  const field = (i: number) => buf.readUInt32BE(i * 4);
  const [headerSize, version, format] = [field(0), field(1), field(2)];
  const [width, height, byteOrder, bitsPerPixel, bytesPerLine, ncolors] = [field(4), field(5), field(7), field(11), field(12), field(19)];
  if (version !== 7 || format !== 2 || (bitsPerPixel !== 32 && bitsPerPixel !== 24))
    throw new Error(`xwd: version ${version}, format ${format}, ${bitsPerPixel} bits a pixel: only ZPixmap at 24 or 32 bits is read`);
  const bytes = bitsPerPixel / 8;
  const start = headerSize + ncolors * 12;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = start + y * bytesPerLine + x * bytes;
      const v = byteOrder === 0 ? buf.readUIntLE(p, bytes) : buf.readUIntBE(p, bytes);
      rgb.set([(v >> 16) & 255, (v >> 8) & 255, v & 255], (y * width + x) * 3);
    }
  }
  return { width, height, rgb };
}

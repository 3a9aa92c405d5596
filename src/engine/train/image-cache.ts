// Decodes every training image once, to RGB bytes at the training size, and keeps them in memory.
import os from 'node:os';
import path from 'node:path';
import { decodeRgb, readImageFile, resizeRgb, type ImageLimits, type ResizeMode } from '../../ingest/image.js';

export interface CachedImages {
  size: number;
  /** files[i] → size × size × 3 bytes at pixels.subarray(i * stride, (i + 1) * stride). */
  pixels: Uint8Array;
  stride: number;
  files: string[];
}

export async function loadImages(root: string, files: string[], size: number, resize: ResizeMode, limits: ImageLimits, onProgress: (done: number, total: number) => void): Promise<CachedImages> {
  const stride = size * size * 3;
  const pixels = new Uint8Array(files.length * stride);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = path.join(root, files[i]);
      try {
        const rgb = await decodeRgb(await readImageFile(file, limits), limits);
        pixels.set(await resizeRgb(rgb, size, resize), i * stride);
      } catch (err) {
        throw new Error(`cannot read training image ${file}: ${(err as Error).message}`);
      }
      done++;
      if (done % 50 === 0 || done === files.length) onProgress(done, files.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(2, os.availableParallelism()) }, worker));
  return { size, pixels, stride, files };
}

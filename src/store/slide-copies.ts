// The store keeps its own copy of every slide, named by its sha256, under <store folder>/slides/. The
// label of a slide then always goes with the pixels the technician saw: an incoming file replaced or
// removed after the decision changes nothing in an export or a retrain. The cost is one more copy of
// each distinct image on disk (duplicates share theirs).
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { extensionFor } from '../ingest/image.js';
import { ensureDir, refuseLinks, writeDurable } from './files.js';
import type { Slide } from './schema.js';

const EXTENSIONS = ['jpg', 'png', 'bmp', 'tif'];

/** `folder`: the store's folder (config.ts's storeFolder). */
export function slideCopiesDir(folder: string): string {
  return path.join(folder, 'slides');
}

/** Two levels keep a folder under a few thousand entries at a million slides. */
function copyPath(dir: string, sha256: string, ext: string): string {
  return path.join(dir, sha256.slice(0, 2), `${sha256}.${ext}`);
}

/** Keeps `bytes` (whose sha256 is given) unless a copy is there already. */
export async function keepSlideCopy(dir: string, sha256: string, bytes: Buffer): Promise<void> {
  const target = copyPath(dir, sha256, extensionFor(bytes));
  refuseLinks(path.dirname(dir), target);
  const st = await fs.lstat(target).catch(() => null);
  if (st?.size === bytes.length) return;
  await ensureDir(path.dirname(target));
  await writeDurable(target, bytes);
}

/** The kept copy of a slide, or null (slides recorded before copies were kept have none). */
export function findSlideCopy(dir: string, sha256: string): string | null {
  for (const ext of EXTENSIONS) {
    const file = copyPath(dir, sha256, ext);
    if (existsSync(file)) return file;
  }
  return null;
}

export class SlideChangedError extends Error {
  override name = 'SlideChangedError';
}

/**
 * The bytes of a slide as it was recorded: its kept copy, or else its incoming file; either is hashed and
 * must match the slide's sha256. A mismatch (a file replaced after the decision) is refused.
 */
export async function readSlideBytes(copiesDir: string, incoming: string, slide: Pick<Slide, 'sha256' | 'path'>): Promise<{ file: string; bytes: Buffer }> {
  const copy = findSlideCopy(copiesDir, slide.sha256);
  const file = copy ?? path.join(incoming, slide.path);
  return { file, bytes: await readVerified(file, slide.sha256, slide.path, !!copy) };
}

/** The file's bytes, when their sha256 is the one recorded for the slide `name`; else SlideChangedError. */
export async function readVerified(file: string, sha256: string, name: string, isCopy = false): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new SlideChangedError(`${name}: its file cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}) and the store has no copy of it`);
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha === sha256) return bytes;
  const found = `sha256 ${sha.slice(0, 12)}…, recorded ${sha256.slice(0, 12)}…`;
  if (isCopy) throw new SlideChangedError(`${name}: the store's copy ${file} is damaged (${found})`);
  throw new SlideChangedError(`${name} is no longer the image that was recorded: its content changed (${found}) and the store has no copy of the original`);
}

// Durable file writes for the store and journal: owner and group only, fsync before rename.
import { constants, lstatSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

export const FILE_MODE = 0o660;
export const DIR_MODE = 0o770;

/** Makes `dir` and any missing parents 0770, whatever the umask (it may take the group's bits). */
export async function ensureDir(dir: string): Promise<void> {
  const made = await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (!made) return;
  // Every folder made, from the first (`made`) down to `dir`: slides/ of slides/ab/ once stayed 0750.
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    await fs.chmod(d, DIR_MODE).catch(() => undefined);
    if (d === path.resolve(made) || d === path.dirname(d)) break;
  }
}

/**
 * A symbolic link inside the data folder. With the documented 0770 group layout any group member could plant
 * `data/slides/ef → elsewhere` or `data/store.db → elsewhere/planted.db`, and the store would write there.
 */
export class LinkRefusedError extends Error {
  override name = 'LinkRefusedError';
}

/** Throws LinkRefusedError when `target`, or a folder between `root` and it, is a symbolic link (root itself may be one). */
export function refuseLinks(root: string, target: string): void {
  const parts = path.relative(path.resolve(root), path.resolve(target)).split(path.sep).filter(Boolean);
  let at = path.resolve(root);
  for (const part of parts) {
    at = path.join(at, part);
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isSymbolicLink()) throw new LinkRefusedError(`${at} is a symbolic link: slidetriage does not follow links inside its data folder ${root}; remove it (nothing was written)`);
  }
}

/** Owner and group only, whatever the umask; for files others may replace (exports, overlays), no fsync; never through a link. */
export async function writePrivate(file: string, data: string | Uint8Array): Promise<void> {
  let h;
  try {
    h = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new LinkRefusedError(`${file} is a symbolic link: it is not written through (nothing was written)`);
    throw err;
  }
  try {
    await h.writeFile(data);
    await h.chmod(FILE_MODE);
  } finally {
    await h.close();
  }
}

/** Writes via a temporary file unique to this process and call, then renames over the target. */
export async function writeDurable(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const h = await fs.open(tmp, 'wx', FILE_MODE);
  try {
    await h.writeFile(data);
    await h.chmod(FILE_MODE); // the umask may have taken group bits away
    await h.sync();
  } finally {
    await h.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  // The rename is durable once the folder is synced.
  const d = await fs.open(path.dirname(file), 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

// Durable file writes for the store and journal: owner and group only, fsync before rename.
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

/** Owner and group only, whatever the umask; for files others may replace (exports, overlays), no fsync. */
export async function writePrivate(file: string, data: string | Uint8Array): Promise<void> {
  await fs.writeFile(file, data, { mode: FILE_MODE });
  await fs.chmod(file, FILE_MODE);
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

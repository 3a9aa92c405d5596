// Lists the files under a folder, subfolders included, in a stable order. Links and other non-folders are
// listed as they are (never followed), so that a link going nowhere or in a loop is listed and then
// rejected by whoever reads it, instead of vanishing: chokidar's own scan drops those, and files without
// the owner-read bit, without a word. Names are read as bytes (byte-names.ts), so that a name that is not
// UTF-8 is listed too, and read by its real bytes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isUtf8, nameOfBytes, rememberBytes } from './byte-names.js';

export interface Walked {
  files: string[];
  /** Folders that could not be listed, with the operating system's reason. */
  unlisted: Array<{ path: string; reason: string }>;
}

export async function walkFiles(root: string, skip: (name: string) => boolean): Promise<Walked> {
  const out: Walked = { files: [], unlisted: [] };
  const walk = async (dir: string, dirBytes: Buffer) => {
    let entries;
    try {
      entries = await fs.readdir(dirBytes, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      out.unlisted.push({ path: dir, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
      return;
    }
    entries.sort((a, b) => Buffer.compare(a.name, b.name));
    for (const e of entries) {
      const name = nameOfBytes(e.name);
      if (skip(name)) continue;
      const full = path.join(dir, name);
      const fullBytes = Buffer.concat([dirBytes, Buffer.from(path.sep), e.name]);
      if (!isUtf8(fullBytes)) rememberBytes(full, fullBytes);
      if (e.isDirectory()) await walk(full, fullBytes);
      else out.files.push(full);
    }
  };
  await walk(root, Buffer.from(root));
  return out;
}

// Lists the files under a folder, subfolders included, in a stable order. Links and other non-folders are
// listed as they are (never followed), so that a link going nowhere or in a loop is listed and then
// rejected by whoever reads it, instead of vanishing: chokidar's own scan drops those, and files without
// the owner-read bit, without a word.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface Walked {
  files: string[];
  /** Folders that could not be listed, with the operating system's reason. */
  unlisted: Array<{ path: string; reason: string }>;
}

export async function walkFiles(root: string, skip: (name: string) => boolean): Promise<Walked> {
  const out: Walked = { files: [], unlisted: [] };
  const walk = async (dir: string) => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      out.unlisted.push({ path: dir, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (skip(e.name)) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else out.files.push(full);
    }
  };
  await walk(root);
  return out;
}

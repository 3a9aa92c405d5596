// Expands command-line paths into the list of files to process, folders walked recursively.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface Expanded {
  files: string[];
  /** Paths that could not be listed, with the reason. */
  missing: Array<{ path: string; reason: string }>;
}

const isHidden = (name: string) => name.startsWith('.');

export async function expandPaths(inputs: string[]): Promise<Expanded> {
  const files: string[] = [];
  const missing: Expanded['missing'] = [];
  const walk = async (dir: string) => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      missing.push({ path: dir, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (isHidden(e.name)) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else files.push(full);
    }
  };
  for (const input of inputs) {
    let stat;
    try {
      stat = await fs.stat(input);
    } catch (err) {
      missing.push({ path: input, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : String((err as Error).message) });
      continue;
    }
    if (stat.isDirectory()) await walk(input);
    else files.push(input);
  }
  return { files, missing };
}

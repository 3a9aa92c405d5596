// Expands command-line paths into the list of files to process, folders walked recursively.
import fs from 'node:fs/promises';
import { walkFiles } from '../ingest/walk.js';

export interface Expanded {
  files: string[];
  /** Paths that could not be listed, with the reason. */
  missing: Array<{ path: string; reason: string }>;
}

const isHidden = (name: string) => name.startsWith('.');

export async function expandPaths(inputs: string[]): Promise<Expanded> {
  const files: string[] = [];
  const missing: Expanded['missing'] = [];
  for (const input of inputs) {
    let stat;
    try {
      stat = await fs.stat(input);
    } catch (err) {
      missing.push({ path: input, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : String((err as Error).message) });
      continue;
    }
    if (stat.isDirectory()) {
      const walked = await walkFiles(input, isHidden);
      files.push(...walked.files);
      missing.push(...walked.unlisted);
    } else files.push(input);
  }
  return { files, missing };
}

// The promoted model version (`current.json` in the versions folder), read without loading any engine
// code: the CLI resolves the current model before it knows which command runs.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const POINTER_FILE = 'current.json';

const pointerSchema = z.object({
  id: z.string(),
  dir: z.string(),
  history: z.array(z.object({ action: z.enum(['promote', 'rollback']), id: z.string(), dir: z.string(), at: z.string(), by: z.string() })),
});
export type Pointer = z.infer<typeof pointerSchema>;

export async function readPointer(versionsDir: string): Promise<Pointer | null> {
  const raw = await fs.readFile(path.join(versionsDir, POINTER_FILE), 'utf8').catch(() => null);
  if (raw === null) return null;
  const parsed = pointerSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`${path.join(versionsDir, POINTER_FILE)} is not a valid version pointer: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** The model to use: the promoted version when one is promoted and still there, else the default. */
export async function currentModelDir(versionsDir: string, defaultDir: string): Promise<string> {
  const pointer = await readPointer(versionsDir).catch(() => null);
  if (pointer && (await fs.stat(path.join(pointer.dir, 'manifest.json')).catch(() => null))) return pointer.dir;
  return defaultDir;
}

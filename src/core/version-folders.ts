import path from 'node:path';

/** A fresh folder name for a new version (time-ordered). */
export function newVersionDir(versionsDir: string, now = new Date()): string {
  return path.join(versionsDir, `v${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`);
}

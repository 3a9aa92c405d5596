// The bundled sample images (C-NMC 2019, CC BY 3.0), copied into the incoming folder on request.
import fs from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_ROOT } from '../config.js';

export async function copySamples(incoming: string): Promise<number> {
  const target = path.join(incoming, 'samples');
  await fs.mkdir(target, { recursive: true });
  let copied = 0;
  for (const cls of ['all', 'hem']) {
    const dir = path.join(PACKAGE_ROOT, 'fixtures', 'cnmc', cls);
    for (const name of (await fs.readdir(dir)).sort().slice(0, 4)) {
      await fs.copyFile(path.join(dir, name), path.join(target, name));
      copied++;
    }
  }
  return copied;
}

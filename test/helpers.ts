// Shared test helpers: temporary folders and small untrained model bundles.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { saveBundle } from '../src/engine/bundle.js';
import { buildModel, defaultSpec } from '../src/engine/models/spec.js';
import type { Variant } from '../src/engine/models/efficientnet.js';

export const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures');

export async function tempDir(prefix = 'slidetriage-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** An untrained EfficientNet bundle, small enough for tests (the active tfjs backend builds it). */
export async function makeBundle(dir: string, opts: { variant?: Variant; size?: number; classes?: string[]; float16?: boolean } = {}) {
  const spec = defaultSpec(opts.variant ?? 'b0', opts.classes ?? ['Benign', 'Early', 'Pre', 'Pro'], { inputSize: opts.size ?? 64 });
  const model = buildModel(spec, 1);
  try {
    return await saveBundle(model, dir, { name: 'test-untrained', spec, float16: opts.float16, training: { note: 'untrained, for tests' } });
  } finally {
    model.dispose();
  }
}

/** Relative L2 error of a against b. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

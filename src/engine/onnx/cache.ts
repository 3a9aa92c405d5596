// The ONNX file of a bundle, cached beside it: exported on first use and again whenever the bundle's
// files (weights) or the exporter change. A read-only bundle folder keeps the export in memory.
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { LoadedBundle } from '../bundle.js';
import { EXPORTER_VERSION, exportToOnnx } from './export.js';

export const ONNX_FILE = 'model.onnx';
export const ONNX_GRAD_FILE = 'model.grad.onnx';
/** The graph kinds a bundle caches: forward (probabilities + feature map) and input gradient (IG). */
export type GraphKind = 'forward' | 'gradient';
const FILES: Record<GraphKind, string> = { forward: ONNX_FILE, gradient: ONNX_GRAD_FILE };

export interface OnnxForBundle {
  /** The cached file, or null when the folder could not be written. */
  file: string | null;
  bytes: Uint8Array | null;
  /** 'cache' when a valid earlier export was used. */
  source: 'cache' | 'exported';
  ms: number;
  warning?: string;
}

/** What the export depends on: every file the manifest lists, and the exporter. */
export function bundleKey(bundle: LoadedBundle): string {
  const files = Object.entries(bundle.manifest.files).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256')
    .update(JSON.stringify({ files, exporter: EXPORTER_VERSION }))
    .digest('hex');
}

export async function onnxForBundle(bundle: LoadedBundle, kind: GraphKind = 'forward'): Promise<OnnxForBundle> {
  const t0 = performance.now();
  const file = path.join(bundle.dir, FILES[kind]);
  const stampFile = `${file}.json`;
  const key = bundleKey(bundle);
  const stamp = await fs
    .readFile(stampFile, 'utf8')
    .then((s) => JSON.parse(s) as { key?: string; sha256?: string })
    .catch(() => null);
  if (stamp?.key === key) {
    const bytes = await fs.readFile(file).catch(() => null);
    if (bytes && createHash('sha256').update(bytes).digest('hex') === stamp.sha256) return { file, bytes: null, source: 'cache', ms: performance.now() - t0 };
  }
  const { bytes } = exportToOnnx(bundle.model, { gradient: kind === 'gradient', metadata: { bundle: bundle.manifest.id, graph: kind } });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, file);
    await fs.writeFile(stampFile, JSON.stringify({ key, sha256, exporterVersion: EXPORTER_VERSION, bundle: bundle.manifest.id }, null, 2) + '\n');
    return { file, bytes: null, source: 'exported', ms: performance.now() - t0 };
  } catch (err) {
    return { file: null, bytes, source: 'exported', ms: performance.now() - t0, warning: `could not cache ${file} (${(err as Error).message}); the export stays in memory` };
  }
}

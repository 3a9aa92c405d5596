// The ONNX graph of a bundle, made from its verified weights every time a session opens (about 0.2 s for
// Lite0). There is no cached `model.onnx` any more: a cache checked only against its own stamp let anyone
// who could write the folder change the weights that ran (a bias of [30, −30, −30, −30] made every slide
// "Benign 1.000" under the genuine model id). The export is a pure function of the weights that loadBundle
// checked against the manifest's sha256, so the bytes handed to ONNX Runtime never touch the disk.
import type { LoadedBundle } from '../bundle.js';
import { exportToOnnx } from './export.js';

/** The graph kinds a bundle has: forward (probabilities + feature map) and input gradient (IG). */
export type GraphKind = 'forward' | 'gradient';

export interface BundleGraph {
  bytes: Uint8Array;
  ms: number;
}

/** The bundle's graph, exported from the weights in memory. */
export function graphForBundle(bundle: LoadedBundle, kind: GraphKind = 'forward'): BundleGraph {
  const t0 = performance.now();
  const { bytes } = exportToOnnx(bundle.model, { gradient: kind === 'gradient', metadata: { bundle: bundle.manifest.id, graph: kind } });
  return { bytes, ms: performance.now() - t0 };
}

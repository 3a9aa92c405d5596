// The out-of-distribution check of one image against the loaded bundle's index (knn.ts).
import type { LoadedBundle } from '../bundle.js';
import { featureMapOf, poolFeatures } from '../models/feature-split.js';
import { checkOod, type OodCheck } from './knn.js';

type FeatureMap = { data: Float32Array; dims: number[] };

/**
 * The check of n images: from `pooled`, the features of the pass that classified them (ONNX Runtime gives
 * them), or else from a TensorFlow.js feature map. Null entries when the bundle has no index.
 */
export async function oodOfImages(bundle: LoadedBundle, images: Float32Array[], pooled: Float32Array[] | null): Promise<(OodCheck | null)[]> {
  const out: (OodCheck | null)[] = [];
  const size = bundle.manifest.spec.inputSize;
  for (const [i, image] of images.entries()) {
    if (!bundle.ood) out.push(null);
    else out.push(checkOod(bundle.ood, pooled?.[i] ?? pooledRows(bundle, await featureMapOf(bundle.model, image, 1, size))[0]));
  }
  return out;
}

/** Each image's pooled features, as the head pools them and the index holds them. */
export function pooledRows(bundle: LoadedBundle, map: FeatureMap): Float32Array[] {
  const [n, h, w, k] = map.dims;
  const pooled = poolFeatures(map.data, n, h, w, k, bundle.manifest.spec.head.pooling);
  return Array.from({ length: n }, (_, i) => pooled.subarray(i * k, (i + 1) * k));
}

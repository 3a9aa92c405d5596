// The out-of-distribution check of one image against the loaded bundle's index (knn.ts).
import type { LoadedBundle } from '../bundle.js';
import { featureMapOf } from '../explain/head.js';
import { poolFeatures } from '../retrain/features.js';
import { checkOod, type OodCheck } from './knn.js';

type FeatureMap = { data: Float32Array; dims: number[] };

/**
 * Null when the bundle has no index. `ortFeatureMap` is ONNX Runtime's feature map when it runs the
 * model (null otherwise: TensorFlow.js computes it).
 */
export async function oodOf(bundle: LoadedBundle, image: Float32Array, ortFeatureMap: (x: Float32Array, n: number) => Promise<FeatureMap | null>): Promise<OodCheck | null> {
  if (!bundle.ood) return null;
  const size = bundle.manifest.spec.inputSize;
  const map = (await ortFeatureMap(image, 1)) ?? (await featureMapOf(bundle.model, image, 1, size));
  return checkOod(bundle.ood, pooledRows(bundle, map)[0]);
}

/** Each image's pooled features, as the head pools them and the index holds them. */
export function pooledRows(bundle: LoadedBundle, map: FeatureMap): Float32Array[] {
  const [n, h, w, k] = map.dims;
  const pooled = poolFeatures(map.data, n, h, w, k, bundle.manifest.spec.head.pooling);
  return Array.from({ length: n }, (_, i) => pooled.subarray(i * k, (i + 1) * k));
}

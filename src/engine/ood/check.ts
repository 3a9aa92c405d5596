// The out-of-distribution check of one image against the loaded bundle's index (knn.ts).
import * as tf from '@tensorflow/tfjs';
import type { LoadedBundle } from '../bundle.js';
import { splitAtFeatures } from '../explain/head.js';
import { poolFeatures } from '../retrain/features.js';
import { checkOod, type OodCheck } from './knn.js';

type FeatureMap = { data: Float32Array; dims: number[] };

const tfjsSplits = new WeakMap<tf.LayersModel, ReturnType<typeof splitAtFeatures>>();

async function tfjsFeatureMap(model: tf.LayersModel, image: Float32Array, size: number): Promise<FeatureMap> {
  let split = tfjsSplits.get(model);
  if (!split) tfjsSplits.set(model, (split = splitAtFeatures(model)));
  const features = split.features;
  const out = tf.tidy(() => features.predict(tf.tensor4d(image, [1, size, size, 3])) as tf.Tensor);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return { data, dims: out.shape };
}

/**
 * Null when the bundle has no index. `ortFeatureMap` is ONNX Runtime's feature map when it runs the
 * model (null otherwise: TensorFlow.js computes it).
 */
export async function oodOf(bundle: LoadedBundle, image: Float32Array, ortFeatureMap: (x: Float32Array, n: number) => Promise<FeatureMap | null>): Promise<OodCheck | null> {
  if (!bundle.ood) return null;
  const size = bundle.manifest.spec.inputSize;
  const map = (await ortFeatureMap(image, 1)) ?? (await tfjsFeatureMap(bundle.model, image, size));
  const [, h, w, k] = map.dims;
  return checkOod(bundle.ood, poolFeatures(map.data, 1, h, w, k, bundle.manifest.spec.head.pooling));
}

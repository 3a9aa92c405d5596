// Backbone features for head-only retraining: the pooled `top_activation` of each image in the 8
// symmetries of the square (a smear has no up), computed once, from ONNX Runtime when it is there.
import type { LoadedBundle } from '../bundle.js';
import { dihedral } from '../train/augment.js';
import { featureMapOf, poolFeatures } from '../models/feature-split.js';
import type { OrtModel } from '../onnx/ort-runtime.js';

export const VIEWS = 8;

/** [images × views, k] features; row i·8 + t is view t of image i (t = 0 is the image as is). */
export async function extractFeatures(
  bundle: LoadedBundle,
  ort: OrtModel | null,
  images: Float32Array[],
  views: number,
  onProgress: (done: number, total: number) => Promise<void>,
): Promise<{ features: Float32Array; k: number }> {
  const size = bundle.manifest.spec.inputSize;
  const pooling = bundle.manifest.spec.head.pooling;
  const stride = size * size * 3;
  const chunks: Float32Array[] = [];
  let k = 0;
  for (let i = 0; i < images.length; i++) {
    const batch = new Float32Array(views * stride);
    for (let t = 0; t < views; t++) dihedral(images[i], batch, t * stride, size, t);
    let map: Float32Array;
    let dims: number[];
    if (ort) {
      const out = await ort.run(batch, views, true);
      if (!out.features) throw new Error('the ONNX graph has no feature output');
      map = out.features.data;
      dims = out.features.dims;
    } else {
      ({ data: map, dims } = await featureMapOf(bundle.model, batch, views, size));
    }
    k = dims[3];
    chunks.push(poolFeatures(map, views, dims[1], dims[2], k, pooling));
    await onProgress(i + 1, images.length);
  }
  const features = new Float32Array(images.length * views * k);
  chunks.forEach((c, i) => features.set(c, i * views * k));
  return { features, k };
}

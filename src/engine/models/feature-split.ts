// A classifier split at its last feature map (`top_activation`): the backbone up to it, and the head
// from it to the class scores before the softmax or sigmoid (the logits Grad-CAM differentiates).
import * as tf from '@tensorflow/tfjs';

/** Head layers in the order the paper's head applies them; absent ones are skipped. */
const HEAD_LAYERS = ['head_pool', 'head_bn', 'head_dense', 'head_dropout'];

export interface SplitModel {
  features: tf.LayersModel;
  /** [batch, h, w, k] feature maps → [batch, classes] class scores (logits). */
  scores(features: tf.Tensor): tf.Tensor2D;
  /** Scores of the whole model from images. */
  imageScores(images: tf.Tensor): tf.Tensor2D;
}

function layerOrNull(model: tf.LayersModel, name: string): tf.layers.Layer | null {
  try {
    return model.getLayer(name);
  } catch {
    return null;
  }
}

/** Logits of the output layer; for one sigmoid unit z, the two classes score (−z, z). */
export function logits(model: tf.LayersModel, hidden: tf.Tensor): tf.Tensor2D {
  const out = model.getLayer('predictions');
  const [kernel, bias] = out.getWeights();
  const z = tf.add(tf.matMul(hidden as tf.Tensor2D, kernel as tf.Tensor2D), bias) as tf.Tensor2D;
  return z.shape[1] === 1 ? (tf.concat([tf.neg(z), z], 1) as tf.Tensor2D) : z;
}

/** The last feature map: whatever feeds the head's pooling (top_activation in EfficientNet). */
export function featureTensor(model: tf.LayersModel): tf.SymbolicTensor {
  const pool = layerOrNull(model, 'head_pool');
  if (!pool) throw new Error('the model has no "head_pool" layer: its last feature map cannot be found');
  return pool.input as tf.SymbolicTensor;
}

export function splitAtFeatures(model: tf.LayersModel): SplitModel {
  const features = tf.model({ inputs: model.inputs, outputs: featureTensor(model) });
  const head = HEAD_LAYERS.map((n) => layerOrNull(model, n)).filter((l): l is tf.layers.Layer => !!l);
  const scores = (a: tf.Tensor) =>
    tf.tidy(() => {
      let h = a;
      for (const layer of head) h = layer.apply(h, { training: false }) as tf.Tensor;
      return logits(model, h);
    });
  return { features, scores, imageScores: (x) => tf.tidy(() => scores(features.predict(x) as tf.Tensor)) };
}

/** The head is global average pooling straight into the output layer: classic CAM applies exactly. */
export function isGapLinearHead(model: tf.LayersModel): boolean {
  const pool = layerOrNull(model, 'head_pool');
  return !!pool && pool.getClassName() === 'GlobalAveragePooling2D' && !layerOrNull(model, 'head_bn') && !layerOrNull(model, 'head_dense');
}

const featureModels = new WeakMap<tf.LayersModel, tf.LayersModel>();

/** The last feature map of n packed NHWC images on TensorFlow.js, [n, h, w, k] (the sub-model is made once per model). */
export async function featureMapOf(model: tf.LayersModel, x: Float32Array, n: number, size: number): Promise<{ data: Float32Array; dims: number[] }> {
  let features = featureModels.get(model);
  if (!features) featureModels.set(model, (features = splitAtFeatures(model).features));
  const backbone = features;
  const out = tf.tidy(() => backbone.predict(tf.tensor4d(x, [n, size, size, 3])) as tf.Tensor);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return { data, dims: out.shape };
}

/** Pools an NHWC map [n, h, w, k] to [n, k] as the head's pooling layer does. */
export function poolFeatures(map: Float32Array, n: number, h: number, w: number, k: number, pooling: 'avg' | 'max'): Float32Array {
  const out = new Float32Array(n * k).fill(pooling === 'max' ? -Infinity : 0);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < h * w; p++) {
      const base = (i * h * w + p) * k;
      for (let c = 0; c < k; c++) {
        const v = map[base + c];
        if (pooling === 'max') out[i * k + c] = Math.max(out[i * k + c], v);
        else out[i * k + c] += v / (h * w);
      }
    }
  }
  return out;
}

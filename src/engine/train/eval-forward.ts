// Forward passes of a training run's validation and final evaluation. ONNX Runtime when it takes the
// model — about 10× faster than tfjs-wasm on the CPU (B0 at 224 px: the final evaluation's 968 images
// in 9 views take about 2 minutes instead of ~12) — exported afresh each time, since the weights
// change every epoch; tfjs-wasm otherwise, or when asked for. Training itself stays on tfjs.
import * as tf from '@tensorflow/tfjs';
import { exportToOnnx } from '../onnx/export.js';
import { OrtModel, type OrtSessionOptions } from '../onnx/ort-runtime.js';
import { featureMapOf, poolFeatures } from '../models/feature-split.js';

export type EvalRuntime = 'auto' | 'onnx' | 'tfjs';

export interface EvalForward {
  runtime: 'onnx' | 'tfjs';
  /** The model's raw output for n NHWC images in [0,1]. */
  run(x: Float32Array, n: number): Promise<Float32Array>;
  /** The pooled last feature map of n images, [n, dim] row-major (as the head pools it). */
  pooledFeatures(x: Float32Array, n: number): Promise<{ features: Float32Array; dim: number }>;
  dispose(): Promise<void>;
}

export async function evalForward(
  model: tf.LayersModel,
  size: number,
  pooling: 'avg' | 'max',
  runtime: EvalRuntime,
  settings: OrtSessionOptions,
  warn: (message: string) => void,
): Promise<EvalForward> {
  const pool = (map: Float32Array, dims: number[]) => ({ features: poolFeatures(map, dims[0], dims[1], dims[2], dims[3], pooling), dim: dims[3] });
  const tfjsFeatures = async (x: Float32Array, n: number) => {
    const map = await featureMapOf(model, x, n, size);
    return pool(map.data, map.dims);
  };
  if (runtime !== 'tfjs') {
    try {
      const ort = await OrtModel.create(exportToOnnx(model).bytes, size, settings);
      return {
        runtime: 'onnx',
        run: async (x, n) => (await ort.run(x, n)).probabilities,
        pooledFeatures: async (x, n) => {
          const out = await ort.run(x, n, true);
          return out.features ? pool(out.features.data, out.features.dims) : tfjsFeatures(x, n);
        },
        dispose: () => ort.dispose(),
      };
    } catch (err) {
      if (runtime === 'onnx') throw err;
      warn(`evaluating on tfjs: ONNX Runtime cannot take this model (${(err as Error).message})`);
    }
  }
  return {
    runtime: 'tfjs',
    run: async (x, n) => {
      const out = tf.tidy(() => model.predict(tf.tensor4d(x, [n, size, size, 3])) as tf.Tensor);
      const raw = (await out.data()) as Float32Array;
      out.dispose();
      return raw;
    },
    pooledFeatures: tfjsFeatures,
    dispose: async () => {},
  };
}

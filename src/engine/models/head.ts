// The paper's classification head on top of a backbone feature map:
// global pooling → batch norm → dense (L2 on kernel, L1 on bias and activity) → dropout → sigmoid/softmax.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';

export const headSchema = z
  .object({
    pooling: z.enum(['max', 'avg']),
    batchNorm: z.boolean(),
    /** Units of the hidden dense layer; 0 leaves it out (pooling → output, the classic CAM head). */
    denseUnits: z.number().int().min(0),
    /**
     * L1 factor on the hidden layer's bias and activity. tfjs-layers cannot apply an activity
     * regulariser inside a functional model, so the training loop adds the activity term itself.
     */
    l1: z.number().min(0),
    /** L2 factor on the hidden layer's kernel. */
    l2: z.number().min(0),
    dropout: z.number().min(0).max(0.95),
  })
  .strict();
export type HeadSpec = z.infer<typeof headSchema>;

export const PAPER_HEAD: HeadSpec = { pooling: 'max', batchNorm: true, denseUnits: 256, l1: 0.006, l2: 0.016, dropout: 0.2 };

/** One sigmoid unit for two classes (probability of the second), softmax otherwise. */
export function outputUnits(numClasses: number): { units: number; activation: 'sigmoid' | 'softmax' } {
  if (numClasses < 2) throw new Error(`a classifier needs at least 2 classes, got ${numClasses}`);
  return numClasses === 2 ? { units: 1, activation: 'sigmoid' } : { units: numClasses, activation: 'softmax' };
}

export function classificationHead(features: tf.SymbolicTensor, numClasses: number, spec: HeadSpec, seed?: number): tf.SymbolicTensor {
  let x =
    spec.pooling === 'max'
      ? (tf.layers.globalMaxPooling2d({ name: 'head_pool' }).apply(features) as tf.SymbolicTensor)
      : (tf.layers.globalAveragePooling2d({ name: 'head_pool' }).apply(features) as tf.SymbolicTensor);
  if (spec.batchNorm) {
    x = tf.layers.batchNormalization({ axis: -1, momentum: 0.99, epsilon: 1e-3, name: 'head_bn' }).apply(x) as tf.SymbolicTensor;
  }
  if (spec.denseUnits > 0) {
    x = tf.layers
      .dense({
        units: spec.denseUnits,
        activation: 'relu',
        kernelRegularizer: spec.l2 > 0 ? tf.regularizers.l2({ l2: spec.l2 }) : undefined,
        biasRegularizer: spec.l1 > 0 ? tf.regularizers.l1({ l1: spec.l1 }) : undefined,
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
        name: 'head_dense',
      })
      .apply(x) as tf.SymbolicTensor;
  }
  if (spec.dropout > 0) {
    // No seed: a seeded tfjs dropout draws the same mask every step. Training seeds Math.random instead.
    x = tf.layers.dropout({ rate: spec.dropout, name: 'head_dropout' }).apply(x) as tf.SymbolicTensor;
  }
  const out = outputUnits(numClasses);
  return tf.layers
    .dense({ units: out.units, activation: out.activation, kernelInitializer: tf.initializers.glorotUniform({ seed }), name: 'predictions' })
    .apply(x) as tf.SymbolicTensor;
}

/** Model outputs as per-class probabilities: a single sigmoid column p becomes [1 - p, p]. */
export function toClassProbabilities(output: Float32Array, batch: number, numClasses: number): Float32Array[] {
  const width = output.length / batch;
  if (width !== numClasses && !(width === 1 && numClasses === 2)) throw new Error(`the model gives ${width} outputs per image for ${numClasses} classes`);
  const rows: Float32Array[] = [];
  for (let i = 0; i < batch; i++) {
    if (width === 1) {
      const p = output[i];
      rows.push(Float32Array.of(1 - p, p));
    } else {
      rows.push(output.slice(i * width, (i + 1) * width));
    }
  }
  return rows;
}

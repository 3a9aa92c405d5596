// A float reference for TFLite imports: runs a TFLite file's operator list directly with tfjs ops (TF's own
// SAME padding, fused activations), from the dequantized constants, independently of our layer models.
import * as tf from '@tensorflow/tfjs';
import { constantValues, type TfliteGraph, type TfliteOperator } from '../../src/engine/tflite/read.js';

function activate(x: tf.Tensor, a: TfliteOperator['activation']): tf.Tensor {
  if (a === 'RELU') return tf.relu(x);
  if (a === 'RELU6') return tf.relu6(x);
  return x;
}

/**
 * Runs the graph on one NHWC image (values as the file expects them); returns its output tensor.
 * `constant` supplies a constant's float values (default: dequantized by our reader).
 */
export function runTfliteReference(graph: TfliteGraph, nhwc: tf.Tensor4D, constant = (i: number) => constantValues(graph.tensors[i])): tf.Tensor {
  const values = new Map<number, tf.Tensor>([[graph.inputs[0], nhwc]]);
  const get = (i: number) => values.get(i) ?? (graph.tensors[i].data ? tf.tensor(constant(i), graph.tensors[i].shape) : undefined);
  const constantValues = (t: { index: number }) => constant(t.index);
  for (const op of graph.operators) {
    const x = get(op.inputs[0])!;
    const w = graph.tensors[op.inputs[1]];
    let y: tf.Tensor;
    switch (op.op) {
      case 'CONV_2D': {
        const filter = tf.transpose(tf.tensor4d(constantValues(w), w.shape as [number, number, number, number]), [1, 2, 3, 0]) as tf.Tensor4D;
        y = activate(tf.add(tf.conv2d(x as tf.Tensor4D, filter, op.stride!, op.padding === 'SAME' ? 'same' : 'valid'), get(op.inputs[2])!), op.activation);
        break;
      }
      case 'DEPTHWISE_CONV_2D': {
        const filter = tf.tensor4d(constantValues(w), [w.shape[1], w.shape[2], w.shape[3], 1]);
        y = activate(tf.add(tf.depthwiseConv2d(x as tf.Tensor4D, filter, op.stride!, op.padding === 'SAME' ? 'same' : 'valid'), get(op.inputs[2])!), op.activation);
        break;
      }
      case 'ADD':
        y = activate(tf.add(x, get(op.inputs[1])!), op.activation);
        break;
      case 'MINIMUM':
        // RELU then MINIMUM is the converter's ReLU6; the int8 file clipped some stored 6s to its
        // calibrated activation range (see import.ts), which float execution does not have.
        y = tf.minimum(x, 6);
        break;
      case 'MEAN':
      case 'AVERAGE_POOL_2D':
        y = tf.mean(x, [1, 2], true);
        break;
      case 'RESHAPE':
        y = tf.reshape(x, [1, -1]);
        break;
      case 'SOFTMAX':
        y = tf.softmax(x as tf.Tensor2D);
        break;
      case 'QUANTIZE':
      case 'DEQUANTIZE':
      case 'TRANSPOSE': // NCHW → NHWC at the input: the reference is fed NHWC already.
        y = x;
        break;
      default:
        throw new Error(`the reference does not run ${op.op}`);
    }
    values.set(op.outputs[0], y);
  }
  return values.get(graph.outputs[0])!;
}

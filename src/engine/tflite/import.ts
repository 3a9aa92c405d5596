// TFLite weights onto our models: the file's weighted operators (convolutions, depthwise convolutions,
// fully connected), in execution order, onto our model's weighted layers in the order it builds them. Every
// kernel shape, stride and activation is checked, and an import that does not line up names each place.
//
// The TFLite files have batch norm folded in, so every imported convolution carries a bias (the mobile
// families in efficientnet.ts are built that way). Quantized weights are dequantized to float32.
import * as tf from '@tensorflow/tfjs';
import { constantValues, TfliteImportError, type TfliteGraph, type TfliteOperator } from './read.js';

export interface TfliteImportReport {
  /** Our layers whose weights came from the file, in order. */
  loaded: string[];
  /** Our layers after the last matched one (a new head): trained later. */
  notInFile: string[];
  quantization: string;
}

const WEIGHTED_OPS = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED']);
const WEIGHTED_LAYERS = new Set(['Conv2D', 'DepthwiseConv2D', 'Dense']);

/**
 * The activation an operator's output goes through: fused, or RELU then MINIMUM(scalar) as some converters
 * write ReLU6. In an int8 file that scalar shares the activation's quantization range, so where the
 * calibrated range ends below 6 the stored limit is clipped too (5.58, 4.86, 3.85 … in the Lite0 file):
 * the float network the file came from is ReLU6 all the same.
 */
function activationAfter(graph: TfliteGraph, op: TfliteOperator): string {
  if (op.activation === 'RELU6') return 'relu6';
  if (op.activation === 'NONE') return 'linear';
  if (op.activation === 'RELU') {
    const next = graph.operators.find((o) => o.inputs.includes(op.outputs[0]));
    const limit = next?.op === 'MINIMUM' ? next.inputs.map((i) => graph.tensors[i]).find((t) => t.data) : undefined;
    return limit && limit.shape.length === 0 && constantValues(limit)[0] <= 6 + 1e-3 ? 'relu6' : 'relu';
  }
  return String(op.activation ?? 'linear').toLowerCase();
}

/** The activation that follows one of our layers: its own, or the Activation layer it feeds alone. */
function activationOf(layer: tf.layers.Layer): string {
  const own = (layer.getConfig().activation as string | undefined) ?? 'linear';
  if (own !== 'linear') return own;
  const next = layer.outboundNodes.map((n) => n.outboundLayer);
  return next.length === 1 && next[0].getClassName() === 'Activation' ? (next[0].getConfig().activation as string) : 'linear';
}

/** Kernel in our layout from the file's: conv OHWI → HWIO, depthwise 1HWC → HWC1 (same order), dense from a 1×1 conv or [O, I]. */
function kernelFor(layer: tf.layers.Layer, values: Float32Array, shape: number[]): tf.Tensor {
  const cls = layer.getClassName();
  if (cls === 'DepthwiseConv2D') return tf.tensor(values, [shape[1], shape[2], shape[3], 1]);
  const ohwi = tf.tensor(values, shape.length === 2 ? [shape[0], 1, 1, shape[1]] : shape);
  const hwio = tf.transpose(ohwi, [1, 2, 3, 0]);
  ohwi.dispose();
  if (cls !== 'Dense') return hwio;
  const dense = hwio.reshape([hwio.shape[2]!, hwio.shape[3]!]);
  hwio.dispose();
  return dense;
}

function describe(graph: TfliteGraph, op: TfliteOperator): string {
  return `operator ${op.index} (${op.op}, ${graph.tensors[op.inputs[1]].name.split(';')[0]})`;
}

/** Checks one pairing; returns what does not match, or null. */
function mismatch(graph: TfliteGraph, op: TfliteOperator, layer: tf.layers.Layer): string | null {
  const [kernel, bias] = layer.getWeights();
  const cls = layer.getClassName();
  const expected = kernel.shape;
  const w = graph.tensors[op.inputs[1]].shape;
  const theirs = cls === 'DepthwiseConv2D' ? [w[1], w[2], w[3], 1] : cls === 'Dense' ? [w[w.length - 1], w[0]] : [w[1], w[2], w[3], w[0]];
  if (op.op === 'DEPTHWISE_CONV_2D' && cls !== 'DepthwiseConv2D') return `${describe(graph, op)} is depthwise, ${layer.name} is ${cls}`;
  if (op.op !== 'DEPTHWISE_CONV_2D' && cls === 'DepthwiseConv2D') return `${describe(graph, op)} is not depthwise, ${layer.name} is`;
  if (!tf.util.arraysEqual(theirs, expected)) return `${describe(graph, op)} has a kernel of ${JSON.stringify(theirs)}, ${layer.name} needs ${JSON.stringify(expected)}`;
  if (!bias) return `${layer.name} has no bias for the folded batch norm of ${describe(graph, op)}`;
  const strides = (layer.getConfig().strides as number[] | undefined) ?? [1, 1];
  if (op.stride && !tf.util.arraysEqual(op.stride, strides)) return `${describe(graph, op)} has stride ${op.stride.join('×')}, ${layer.name} ${strides.join('×')}`;
  const a = activationAfter(graph, op);
  const b = activationOf(layer);
  if (a !== b && !(cls === 'Dense' && a === 'linear')) return `${describe(graph, op)} is followed by ${a}, ${layer.name} by ${b}`;
  return null;
}

/** Loads the file's weights into `model`; throws a TfliteImportError listing every mismatch. */
export function importTfliteWeights(graph: TfliteGraph, model: tf.LayersModel): TfliteImportReport {
  const ops = graph.operators.filter((o) => WEIGHTED_OPS.has(o.op));
  const layers = model.layers.filter((l) => WEIGHTED_LAYERS.has(l.getClassName()) && l.getWeights().length);
  const problems = ops
    .slice(0, layers.length)
    .map((op, i) => mismatch(graph, op, layers[i]))
    .filter((p): p is string => p !== null);
  if (ops.length > layers.length) problems.unshift(`the file has ${ops.length} weighted operators, the model ${layers.length} weighted layers`);
  if (problems.length)
    throw new TfliteImportError(`the file does not match ${model.name}:\n  ${problems.slice(0, 8).join('\n  ')}${problems.length > 8 ? `\n  … and ${problems.length - 8} more` : ''}`);
  ops.forEach((op, i) => {
    const w = graph.tensors[op.inputs[1]];
    const b = graph.tensors[op.inputs[2]];
    const kernel = kernelFor(layers[i], constantValues(w), w.shape);
    const bias = tf.tensor1d(constantValues(b));
    layers[i].setWeights([kernel, bias]);
    tf.dispose([kernel, bias]);
  });
  const first = graph.tensors[ops[0].inputs[1]];
  const quantization = `${first.type}, ${first.quantization && first.quantization.scale.length > 1 ? 'per channel' : 'per tensor'}`;
  return { loaded: layers.slice(0, ops.length).map((l) => l.name), notInFile: layers.slice(ops.length).map((l) => l.name), quantization };
}

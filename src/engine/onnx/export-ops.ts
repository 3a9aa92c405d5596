// The exporter's small pieces: weights out of tfjs layers in ONNX's layouts, batch norm folding, pads,
// activations and their gradients.
import * as tf from '@tensorflow/tfjs';
import type { GraphBuilder } from './graph-builder.js';
import { ExportError, type Cfg, type Value } from './export-types.js';

export function inputsOf(layer: tf.layers.Layer): tf.SymbolicTensor[] {
  // An InputLayer's node lists its own output as input.
  if (layer.getClassName() === 'InputLayer') return [];
  const node = layer.inboundNodes[0];
  return node ? (node.inputTensors as tf.SymbolicTensor[]) : [];
}

export function weight(layer: tf.layers.Layer, suffix: string): Float32Array {
  const i = layer.weights.findIndex((w) => w.originalName.endsWith(`/${suffix}`) || w.name.endsWith(`/${suffix}`));
  if (i < 0) throw new ExportError(`${layer.name} has no weight ${suffix}`);
  return layer.getWeights()[i].dataSync() as Float32Array;
}

export interface BatchNorm {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

export function batchNormParams(layer: tf.layers.Layer, channels: number): BatchNorm {
  const cfg = layer.getConfig() as Cfg;
  const axis = cfg.axis as number;
  if (axis !== -1 && axis !== 3 && axis !== 1) throw new ExportError(`${layer.name}: batch norm on axis ${axis} is not supported`);
  return {
    gamma: cfg.scale === false ? new Float32Array(channels).fill(1) : weight(layer, 'gamma'),
    beta: cfg.center === false ? new Float32Array(channels) : weight(layer, 'beta'),
    mean: weight(layer, 'moving_mean'),
    variance: weight(layer, 'moving_variance'),
    epsilon: cfg.epsilon as number,
  };
}

export function foldIntoConv(w: Float32Array, bias: Float32Array, bn: BatchNorm, cout: number): { w: Float32Array; bias: Float32Array } {
  const per = w.length / cout;
  const outW = new Float32Array(w.length);
  const outB = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const s = bn.gamma[o] / Math.sqrt(bn.variance[o] + bn.epsilon);
    for (let k = 0; k < per; k++) outW[o * per + k] = w[o * per + k] * s;
    outB[o] = (bias[o] - bn.mean[o]) * s + bn.beta[o];
  }
  return { w: outW, bias: outB };
}

/** tfjs conv kernel [kh, kw, cin, cout] → ONNX [cout, cin, kh, kw]. */
export function convToOihw(k: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < cin; c++)
        for (let o = 0; o < cout; o++) {
          out[((o * cin + c) * kh + i) * kw + j] = k[((i * kw + j) * cin + c) * cout + o];
        }
  return out;
}

/** tfjs depthwise kernel [kh, kw, cin, m] → ONNX grouped [cin·m, 1, kh, kw]. */
export function depthwiseToOihw(k: Float32Array, kh: number, kw: number, cin: number, m: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < cin; c++)
        for (let d = 0; d < m; d++) {
          out[((c * m + d) * kh + i) * kw + j] = k[((i * kw + j) * cin + c) * m + d];
        }
  return out;
}

/** ONNX pads [top, left, bottom, right] for TF's 'same'/'valid', plus any pending zero padding. */
export function convPads(x: Value, padding: string, k: number[], s: number[], d: number[]): number[] {
  const extra = x.pad ?? [0, 0, 0, 0];
  const [h, w] = [x.shape[0] - extra[0] - extra[1], x.shape[1] - extra[2] - extra[3]];
  let [t, b, l, r] = extra;
  if (padding === 'same') {
    const [pt, pb] = samePad(h + extra[0] + extra[1], k[0], s[0], d[0]);
    const [pl, pr] = samePad(w + extra[2] + extra[3], k[1], s[1], d[1]);
    t += pt;
    b += pb;
    l += pl;
    r += pr;
  } else if (padding !== 'valid') {
    throw new ExportError(`padding '${padding}' is not supported`);
  }
  return [t, l, b, r];
}

export function samePad(size: number, k: number, s: number, d: number): [number, number] {
  const eff = (k - 1) * d + 1;
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + eff - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export function sameLayout(xs: Value[], name: string): void {
  if (xs.some((v) => v.layout !== xs[0].layout)) throw new ExportError(`${name}: inputs of different ranks`);
}

export function activate(g: GraphBuilder, x: string, activation: string, name: string, layout: 'nchw' | 'flat'): string {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return g.op('Relu', [x], name);
    case 'relu6':
      return g.op('Clip', [x, g.floats(`${name}_min`, Float32Array.of(0), []), g.floats(`${name}_max`, Float32Array.of(6), [])], name);
    case 'sigmoid':
      return g.op('Sigmoid', [x], name);
    case 'tanh':
      return g.op('Tanh', [x], name);
    case 'swish':
      return g.op('Mul', [x, g.op('Sigmoid', [x], `${name}_sigmoid`)], name);
    case 'softmax':
      if (layout !== 'flat') throw new ExportError(`${name}: softmax over a feature map is not supported`);
      return g.op('Softmax', [x], name, { axis: { int: 1 } });
    default:
      throw new ExportError(`${name}: activation '${activation}' has no ONNX conversion`);
  }
}

/** OIHW kernel rotated by 180°; with `swap`, in and out channels exchanged too ([o, i] → [i, o]). */
export function flipKernel(w: Float32Array, o: number, i: number, kh: number, kw: number, swap: boolean): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) {
          const src = ((a * i + b) * kh + y) * kw + x;
          const dst = swap ? ((b * o + a) * kh + (kh - 1 - y)) * kw + (kw - 1 - x) : ((a * i + b) * kh + (kh - 1 - y)) * kw + (kw - 1 - x);
          out[dst] = w[src];
        }
  return out;
}

/** ∂y/∂x · gy for y = activation(x), from x (`pre`) and y (`post`). */
export function activationGrad(g: GraphBuilder, gy: string, pre: string, post: string, activation: string, name: string): string {
  const one = () => g.floats(`${name}_one`, Float32Array.of(1), []);
  const zero = () => g.floats(`${name}_zero`, Float32Array.of(0), []);
  switch (activation) {
    case 'linear':
      return gy;
    // gy where 0 < y (and y < 6), else 0; ONNX Runtime's Sign was the slowest step of a training graph.
    case 'relu':
      return g.op('Where', [g.op('Greater', [post, zero()], `${name}_relu_mask`), gy, zero()], `${name}_act_grad`);
    case 'relu6': {
      const inside = g.op('And', [g.op('Greater', [post, zero()], `${name}_above`), g.op('Less', [post, g.floats(`${name}_six`, Float32Array.of(6), [])], `${name}_below`)], `${name}_relu6_mask`);
      return g.op('Where', [inside, gy, zero()], `${name}_act_grad`);
    }
    case 'sigmoid':
      return g.op('Mul', [gy, g.op('Mul', [post, g.op('Sub', [one(), post], `${name}_1m`)], `${name}_dsig`)], `${name}_act_grad`);
    case 'tanh':
      return g.op('Mul', [gy, g.op('Sub', [one(), g.op('Mul', [post, post], `${name}_sq`)], `${name}_dtanh`)], `${name}_act_grad`);
    case 'swish': {
      // d/dx x·σ(x) = σ(x) · (1 + x·(1 − σ(x))) = σ(x) · (1 + x − y): four passes over the map, not five.
      const s = g.op('Sigmoid', [pre], `${name}_grad_sigmoid`);
      const inner = g.op('Add', [g.op('Sub', [pre, post], `${name}_xmy`), one()], `${name}_inner`);
      return g.op('Mul', [gy, g.op('Mul', [s, inner], `${name}_dswish`)], `${name}_act_grad`);
    }
    default:
      throw new ExportError(`${name}: no gradient for activation '${activation}'`);
  }
}

/** Sums a broadcast gradient back to the shape of an input (tfjs shapes without batch, [h, w, c] or [c]). */
export function reduceTo(g: GraphBuilder, grad: string, x: Value, outShape: number[], name: string): string {
  const axes: number[] = [];
  if (x.layout === 'nchw') {
    // tfjs axis 0, 1, 2 (h, w, c) is ONNX axis 2, 3, 1.
    [2, 3, 1].forEach((onnxAxis, i) => {
      if (x.shape[i] === 1 && outShape[i] !== 1) axes.push(onnxAxis);
    });
  } else if (x.shape[0] === 1 && outShape[0] !== 1) {
    axes.push(1);
  }
  if (!axes.length) return grad;
  return g.op('ReduceSum', [grad, g.int64s(`${name}_axes`, axes.sort())], name, { keepdims: { int: 1 } });
}

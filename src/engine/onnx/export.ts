// Exports a TensorFlow.js layers model (EfficientNet with its head, and the baselines) to ONNX.
// TensorFlow.js computes in NHWC; ONNX's Conv wants NCHW. The graph transposes the input once, runs
// every layer in NCHW, and transposes the last feature map back for the second output, so that both
// outputs read exactly like the tfjs model's. Batch norm after a linear convolution is folded into
// the convolution's weights; zero padding before a 'valid' convolution becomes the convolution's pads.
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from './graph-builder.js';
import { FEATURE_LAYER } from '../models/spec.js';

/** Bumped whenever the exporter writes a different graph for the same weights (cached files are redone). */
export const EXPORTER_VERSION = 1;

export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'probabilities';
export const ONNX_FEATURES = 'features';

export interface ExportOptions {
  /** Layer whose output becomes the second output (CAM, Grad-CAM); none when absent from the model. */
  featureLayer?: string;
  foldBatchNorm?: boolean;
  metadata?: Record<string, string>;
}

export interface ExportResult {
  bytes: Uint8Array;
  /** Output names in order: probabilities, then features when the model has the feature layer. */
  outputs: string[];
  nodes: number;
  foldedBatchNorms: number;
}

/** A tensor of the tfjs graph as it exists in the ONNX graph. */
interface Value {
  name: string;
  /** 'nchw' for 4-D maps (tfjs shape [H, W, C] without batch), 'flat' for [N, C]. */
  layout: 'nchw' | 'flat';
  shape: number[];
  /** Zero padding not applied yet: [top, bottom, left, right] (taken by a following 'valid' conv or pool). */
  pad?: [number, number, number, number];
}

type Cfg = Record<string, unknown>;

export class ExportError extends Error {}

export function exportToOnnx(model: tf.LayersModel, opts: ExportOptions = {}): ExportResult {
  const g = new GraphBuilder();
  const fold = opts.foldBatchNorm ?? true;
  const values = new Map<number, Value>();
  const consumers = new Map<number, tf.layers.Layer[]>();
  for (const layer of model.layers) {
    for (const t of inputsOf(layer)) consumers.set(t.id, [...(consumers.get(t.id) ?? []), layer]);
  }
  const skip = new Set<tf.layers.Layer>();
  let folded = 0;

  const get = (t: tf.SymbolicTensor): Value => {
    const v = values.get(t.id);
    if (!v) throw new ExportError(`no ONNX value for tensor ${t.name}`);
    return v;
  };
  /** Applies pending zero padding (for consumers that cannot take it as pads). */
  const materialize = (v: Value, base: string): Value => {
    if (!v.pad) return v;
    const [t, b, l, r] = v.pad;
    const pads = g.int64s(`${base}_pads`, [0, 0, t, l, 0, 0, b, r]);
    return { name: g.op('Pad', [v.name, pads], `${base}_pad`, { mode: { string: 'constant' } }), layout: v.layout, shape: v.shape };
  };

  for (const layer of model.layers) {
    if (skip.has(layer)) continue;
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Cfg;
    const ins = inputsOf(layer).map(get);
    const outShape = (layer.outputShape as number[]).slice(1) as number[];
    const name = layer.name;
    let out: Value;
    switch (cls) {
      case 'InputLayer': {
        const [h, w, c] = outShape;
        g.input(ONNX_INPUT, ['batch', h, w, c]);
        out = { name: g.op('Transpose', [ONNX_INPUT], 'input_nchw', { perm: { ints: [0, 3, 1, 2] } }), layout: 'nchw', shape: outShape };
        break;
      }
      case 'Normalization': {
        const mean = weight(layer, 'mean');
        const variance = weight(layer, 'variance');
        const c = mean.length;
        const inv = Float32Array.from(variance, (v) => 1 / Math.sqrt(Math.max(v, 1e-7)));
        const shift = Float32Array.from(mean, (m, i) => -m * inv[i]);
        const mul = g.op('Mul', [ins[0].name, g.floats(`${name}_scale`, inv, [1, c, 1, 1])], `${name}_mul`);
        out = { name: g.op('Add', [mul, g.floats(`${name}_shift`, shift, [1, c, 1, 1])], name), layout: 'nchw', shape: outShape };
        break;
      }
      case 'ZeroPadding2D': {
        const [[t, b], [l, r]] = cfg.padding as [[number, number], [number, number]];
        const prev = ins[0].pad ?? [0, 0, 0, 0];
        out = { ...ins[0], shape: outShape, pad: [prev[0] + t, prev[1] + b, prev[2] + l, prev[3] + r] };
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const x = ins[0];
        const depthwise = cls === 'DepthwiseConv2D';
        const [kh, kw] = cfg.kernelSize as number[];
        const [sh, sw] = cfg.strides as number[];
        const [dh, dw] = (cfg.dilationRate as number[] | undefined) ?? [1, 1];
        const cin = x.shape[2];
        const raw = weight(layer, depthwise ? 'depthwise_kernel' : 'kernel');
        const multiplier = depthwise ? (cfg.depthMultiplier as number) : 1;
        let w = depthwise ? depthwiseToOihw(raw, kh, kw, cin, multiplier) : convToOihw(raw, kh, kw, cin, cfg.filters as number);
        const cout = depthwise ? cin * multiplier : (cfg.filters as number);
        let bias: Float32Array = (cfg.useBias as boolean) ? weight(layer, 'bias') : new Float32Array(cout);
        let activation = cfg.activation as string;
        let result = layer.output as tf.SymbolicTensor;
        const next = consumers.get(result.id) ?? [];
        if (fold && activation === 'linear' && next.length === 1 && next[0].getClassName() === 'BatchNormalization') {
          const bn = batchNormParams(next[0], cout);
          ({ w, bias } = foldIntoConv(w, bias, bn, cout));
          skip.add(next[0]);
          result = next[0].output as tf.SymbolicTensor;
          activation = 'linear';
          folded++;
        }
        const pads = convPads(x, cfg.padding as string, [kh, kw], [sh, sw], [dh, dw]);
        const conv = g.op('Conv', [x.name, g.floats(`${name}_W`, w, depthwise ? [cout, 1, kh, kw] : [cout, cin, kh, kw]), g.floats(`${name}_B`, bias, [cout])], `${name}_conv`, {
          kernel_shape: { ints: [kh, kw] },
          strides: { ints: [sh, sw] },
          dilations: { ints: [dh, dw] },
          pads: { ints: pads },
          group: { int: depthwise ? cin : 1 },
        });
        const shape = (result.shape as number[]).slice(1);
        values.set(result.id, { name: activate(g, conv, activation, name, 'nchw'), layout: 'nchw', shape });
        continue;
      }
      case 'BatchNormalization': {
        const x = materialize(ins[0], name);
        const c = x.layout === 'flat' ? x.shape[0] : x.shape[2];
        const bn = batchNormParams(layer, c);
        const scale = Float32Array.from(bn.gamma, (gm, i) => gm / Math.sqrt(bn.variance[i] + bn.epsilon));
        const shift = Float32Array.from(bn.beta, (bt, i) => bt - bn.mean[i] * scale[i]);
        const dims = x.layout === 'flat' ? [1, c] : [1, c, 1, 1];
        const mul = g.op('Mul', [x.name, g.floats(`${name}_scale`, scale, dims)], `${name}_mul`);
        out = { name: g.op('Add', [mul, g.floats(`${name}_shift`, shift, dims)], name), layout: x.layout, shape: outShape };
        break;
      }
      case 'Activation':
      case 'ReLU': {
        const x = materialize(ins[0], name);
        out = { name: activate(g, x.name, cls === 'ReLU' ? 'relu' : (cfg.activation as string), name, x.layout), layout: x.layout, shape: outShape };
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        const x = materialize(ins[0], name);
        const pooled = g.op(cls === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], `${name}_pool`);
        out = { name: g.op('Flatten', [pooled], name, { axis: { int: 1 } }), layout: 'flat', shape: outShape };
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const x = ins[0];
        const max = cls === 'MaxPooling2D';
        const [ph, pw] = cfg.poolSize as number[];
        const [sh, sw] = cfg.strides as number[];
        // Keras's zero padding before a pool counts as values (ONNX pads a max pool with -inf): apply it.
        const src = materialize(x, name);
        const pads = convPads(src, cfg.padding as string, [ph, pw], [sh, sw], [1, 1]);
        const attrs = { kernel_shape: { ints: [ph, pw] }, strides: { ints: [sh, sw] }, pads: { ints: pads } };
        out = { name: g.op(max ? 'MaxPool' : 'AveragePool', [src.name], name, max ? attrs : { ...attrs, count_include_pad: { int: 0 } }), layout: 'nchw', shape: outShape };
        break;
      }
      case 'Reshape': {
        const x = materialize(ins[0], name);
        const target = cfg.targetShape as number[];
        if (target.length === 3 && target[0] === 1 && target[1] === 1) {
          // [N, C] → [N, 1, 1, C] in NHWC is [N, C, 1, 1] in NCHW: the same bytes.
          out = { name: g.op('Reshape', [x.name, g.int64s(`${name}_shape`, [-1, target[2], 1, 1])], name), layout: 'nchw', shape: outShape };
        } else {
          const nhwc = x.layout === 'nchw' ? g.op('Transpose', [x.name], `${name}_nhwc`, { perm: { ints: [0, 2, 3, 1] } }) : x.name;
          const reshaped = g.op('Reshape', [nhwc, g.int64s(`${name}_shape`, [-1, ...target])], target.length === 3 ? `${name}_reshape` : name);
          if (target.length === 3) out = { name: g.op('Transpose', [reshaped], name, { perm: { ints: [0, 3, 1, 2] } }), layout: 'nchw', shape: outShape };
          else if (target.length === 1) out = { name: reshaped, layout: 'flat', shape: outShape };
          else throw new ExportError(`${name}: reshape to ${target.length} dimensions is not supported`);
        }
        break;
      }
      case 'Flatten': {
        const x = materialize(ins[0], name);
        const nhwc = x.layout === 'nchw' ? g.op('Transpose', [x.name], `${name}_nhwc`, { perm: { ints: [0, 2, 3, 1] } }) : x.name;
        out = { name: g.op('Flatten', [nhwc], name, { axis: { int: 1 } }), layout: 'flat', shape: outShape };
        break;
      }
      case 'Multiply':
      case 'Add': {
        const xs = ins.map((v, i) => materialize(v, `${name}_${i}`));
        sameLayout(xs, name);
        let acc = xs[0].name;
        for (let i = 1; i < xs.length; i++) acc = g.op(cls === 'Add' ? 'Add' : 'Mul', [acc, xs[i].name], i === xs.length - 1 ? name : `${name}_${i}`);
        out = { name: acc, layout: xs[0].layout, shape: outShape };
        break;
      }
      case 'CustomScaleLayer': {
        const xs = ins.map((v, i) => materialize(v, `${name}_${i}`));
        sameLayout(xs, name);
        const scaled = g.op('Mul', [xs[1].name, g.floats(`${name}_scale`, Float32Array.of(cfg.scale as number), [])], `${name}_scaled`);
        out = { name: g.op('Add', [xs[0].name, scaled], name), layout: xs[0].layout, shape: outShape };
        break;
      }
      case 'Concatenate': {
        const xs = ins.map((v, i) => materialize(v, `${name}_${i}`));
        sameLayout(xs, name);
        const axis = cfg.axis as number;
        const rank = xs[0].shape.length;
        if (axis !== -1 && axis !== rank) throw new ExportError(`${name}: concatenation on axis ${axis} is not supported`);
        out = { name: g.op('Concat', xs.map((v) => v.name), name, { axis: { int: 1 } }), layout: xs[0].layout, shape: outShape };
        break;
      }
      case 'Dropout':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
      case 'GaussianDropout':
        out = ins[0];
        break;
      case 'Dense': {
        const x = materialize(ins[0], name);
        if (x.layout !== 'flat') throw new ExportError(`${name}: Dense on a feature map is not supported`);
        const units = cfg.units as number;
        const kernel = weight(layer, 'kernel');
        const inputs = [x.name, g.floats(`${name}_W`, kernel, [x.shape[0], units])];
        if (cfg.useBias as boolean) inputs.push(g.floats(`${name}_B`, weight(layer, 'bias'), [units]));
        const gemm = g.op('Gemm', inputs, `${name}_gemm`);
        out = { name: activate(g, gemm, cfg.activation as string, name, 'flat'), layout: 'flat', shape: outShape };
        break;
      }
      default:
        throw new ExportError(`layer ${name} (${cls}) has no ONNX conversion`);
    }
    values.set((layer.output as tf.SymbolicTensor).id, out);
  }

  const outputs: string[] = [];
  const main = values.get((model.outputs[0] as tf.SymbolicTensor).id);
  if (!main || main.layout !== 'flat') throw new ExportError('the model output is not a [batch, classes] tensor');
  g.output(main.name, ONNX_OUTPUT, ['batch', main.shape[0]]);
  outputs.push(ONNX_OUTPUT);
  const featureName = opts.featureLayer ?? FEATURE_LAYER;
  const featureLayer = model.layers.find((l) => l.name === featureName);
  if (featureLayer) {
    const f = values.get((featureLayer.output as tf.SymbolicTensor).id);
    if (!f || f.layout !== 'nchw') throw new ExportError(`${featureName} is not a feature map`);
    const nhwc = g.op('Transpose', [f.name], `${featureName}_nhwc`, { perm: { ints: [0, 2, 3, 1] } });
    g.output(nhwc, ONNX_FEATURES, ['batch', ...f.shape]);
    outputs.push(ONNX_FEATURES);
  }
  const bytes = g.encode(model.name, { exporter_version: String(EXPORTER_VERSION), ...opts.metadata }, String(EXPORTER_VERSION));
  return { bytes, outputs, nodes: g.nodes.length, foldedBatchNorms: folded };
}

function inputsOf(layer: tf.layers.Layer): tf.SymbolicTensor[] {
  // An InputLayer's node lists its own output as input.
  if (layer.getClassName() === 'InputLayer') return [];
  const node = layer.inboundNodes[0];
  return node ? (node.inputTensors as tf.SymbolicTensor[]) : [];
}

function weight(layer: tf.layers.Layer, suffix: string): Float32Array {
  const i = layer.weights.findIndex((w) => w.originalName.endsWith(`/${suffix}`) || w.name.endsWith(`/${suffix}`));
  if (i < 0) throw new ExportError(`${layer.name} has no weight ${suffix}`);
  return layer.getWeights()[i].dataSync() as Float32Array;
}

interface BatchNorm {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

function batchNormParams(layer: tf.layers.Layer, channels: number): BatchNorm {
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

function foldIntoConv(w: Float32Array, bias: Float32Array, bn: BatchNorm, cout: number): { w: Float32Array; bias: Float32Array } {
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
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < cin; c++) for (let o = 0; o < cout; o++) {
    out[((o * cin + c) * kh + i) * kw + j] = k[((i * kw + j) * cin + c) * cout + o];
  }
  return out;
}

/** tfjs depthwise kernel [kh, kw, cin, m] → ONNX grouped [cin·m, 1, kh, kw]. */
export function depthwiseToOihw(k: Float32Array, kh: number, kw: number, cin: number, m: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < cin; c++) for (let d = 0; d < m; d++) {
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
    t += pt; b += pb; l += pl; r += pr;
  } else if (padding !== 'valid') {
    throw new ExportError(`padding '${padding}' is not supported`);
  }
  return [t, l, b, r];
}

function samePad(size: number, k: number, s: number, d: number): [number, number] {
  const eff = (k - 1) * d + 1;
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + eff - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function sameLayout(xs: Value[], name: string): void {
  if (xs.some((v) => v.layout !== xs[0].layout)) throw new ExportError(`${name}: inputs of different ranks`);
}

function activate(g: GraphBuilder, x: string, activation: string, name: string, layout: 'nchw' | 'flat'): string {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return g.op('Relu', [x], name);
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

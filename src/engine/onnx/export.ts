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
/** Gradient graph: the seed ∂score/∂logits in, the logits and ∂score/∂input out. */
export const ONNX_LOGITS = 'logits';
export const ONNX_LOGITS_GRAD = 'logits_grad';
export const ONNX_INPUT_GRAD = 'input_grad';

export interface ExportOptions {
  /** Layer whose output becomes the second output (CAM, Grad-CAM); none when absent from the model. */
  featureLayer?: string;
  foldBatchNorm?: boolean;
  metadata?: Record<string, string>;
  /**
   * Also emit the backward pass to the input: the graph takes `logits_grad` ([batch, units], the
   * gradient of the score with respect to the output layer's pre-activation) and returns `logits` and
   * `input_grad` (NHWC) instead of the feature map. Integrated Gradients runs on it.
   */
  gradient?: boolean;
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
  const wantGrad = opts.gradient ?? false;
  const outputTensor = model.outputs[0] as tf.SymbolicTensor;
  let logitsName: string | null = null;
  let unitsOut = 0;

  // Backward pass, built after the forward one: one closure per layer, run in reverse order, each
  // turning the gradient of its output into gradients of its inputs (summed where a tensor fans out).
  const back: Array<{ outId: number; run(gy: string): void }> = [];
  const grads = new Map<number, string[]>();
  const addGrad = (t: tf.SymbolicTensor, name: string) => grads.set(t.id, [...(grads.get(t.id) ?? []), name]);
  const gradOf = (id: number, base: string): string | null => {
    const parts = grads.get(id);
    if (!parts?.length) return null;
    const total = parts.length === 1 ? parts[0] : g.op('Sum', parts, `${base}_grad_sum`);
    grads.set(id, [total]);
    return total;
  };
  const noGrad = (layer: tf.layers.Layer) => () => {
    throw new ExportError(`layer ${layer.name} (${layer.getClassName()}) has no gradient in the ONNX exporter`);
  };
  const constant = (base: string, v: number) => g.floats(base, Float32Array.of(v), []);

  const get = (t: tf.SymbolicTensor): Value => {
    const v = values.get(t.id);
    if (!v) throw new ExportError(`no ONNX value for tensor ${t.name}`);
    return v;
  };
  /** Applies pending zero padding (for consumers that cannot take it as pads). */
  const materialize = (v: Value, base: string): Value => {
    if (!v.pad) return v;
    if (wantGrad) throw new ExportError(`${base}: no gradient through zero padding that is not a convolution's`);
    const [t, b, l, r] = v.pad;
    const pads = g.int64s(`${base}_pads`, [0, 0, t, l, 0, 0, b, r]);
    return { name: g.op('Pad', [v.name, pads], `${base}_pad`, { mode: { string: 'constant' } }), layout: v.layout, shape: v.shape };
  };

  for (const layer of model.layers) {
    if (skip.has(layer)) continue;
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Cfg;
    const inTensors = inputsOf(layer);
    const ins = inTensors.map(get);
    const outId = (layer.output as tf.SymbolicTensor).id;
    const grad = (run: (gy: string) => void) => {
      if (wantGrad) back.push({ outId, run });
    };
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
        const scale = g.floats(`${name}_scale`, inv, [1, c, 1, 1]);
        const mul = g.op('Mul', [ins[0].name, scale], `${name}_mul`);
        out = { name: g.op('Add', [mul, g.floats(`${name}_shift`, shift, [1, c, 1, 1])], name), layout: 'nchw', shape: outShape };
        grad((gy) => addGrad(inTensors[0], g.op('Mul', [gy, scale], `${name}_grad`)));
        break;
      }
      case 'ZeroPadding2D': {
        const [[t, b], [l, r]] = cfg.padding as [[number, number], [number, number]];
        const prev = ins[0].pad ?? [0, 0, 0, 0];
        out = { ...ins[0], shape: outShape, pad: [prev[0] + t, prev[1] + b, prev[2] + l, prev[3] + r] };
        // The convolution that takes the padding as pads crops its gradient to the unpadded tensor.
        grad((gy) => addGrad(inTensors[0], gy));
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
        const wName = g.floats(`${name}_W`, w, depthwise ? [cout, 1, kh, kw] : [cout, cin, kh, kw]);
        const conv = g.op('Conv', [x.name, wName, g.floats(`${name}_B`, bias, [cout])], `${name}_conv`, {
          kernel_shape: { ints: [kh, kw] },
          strides: { ints: [sh, sw] },
          dilations: { ints: [dh, dw] },
          pads: { ints: pads },
          group: { int: depthwise ? cin : 1 },
        });
        const shape = (result.shape as number[]).slice(1);
        const post = activate(g, conv, activation, name, 'nchw');
        values.set(result.id, { name: post, layout: 'nchw', shape });
        if (wantGrad) {
          if (depthwise && multiplier !== 1) throw new ExportError(`${name}: no gradient for a depth multiplier of ${multiplier}`);
          // ∂/∂x of a convolution is the transposed convolution with the same weights; output_padding
          // restores the input size that striding rounded away, pads crop the zero padding.
          const inH = x.shape[0] - (x.pad?.[0] ?? 0) - (x.pad?.[1] ?? 0);
          const inW = x.shape[1] - (x.pad?.[2] ?? 0) - (x.pad?.[3] ?? 0);
          const outPad = [inH - (sh * (shape[0] - 1) + (kh - 1) * dh + 1 - pads[0] - pads[2]), inW - (sw * (shape[1] - 1) + (kw - 1) * dw + 1 - pads[1] - pads[3])];
          if (outPad.some((p, i) => p < 0 || p >= [sh, sw][i])) throw new ExportError(`${name}: no transposed convolution gives back ${inH}×${inW}`);
          const unitStride = sh === 1 && sw === 1 && dh === 1 && dw === 1 && pads[0] < kh && pads[2] < kh && pads[1] < kw && pads[3] < kw;
          back.push({
            outId: result.id,
            run: (gy) => {
              const gPre = activationGrad(g, gy, conv, post, activation, name);
              if (unitStride) {
                // With stride 1 the transposed convolution is a plain one with the kernel flipped (and, for
                // a full convolution, its in/out channels swapped), which ONNX Runtime runs much faster.
                const flipped = depthwise ? flipKernel(w, cout, 1, kh, kw, false) : flipKernel(w, cout, cin, kh, kw, true);
                const wFlip = g.floats(`${name}_W_flipped`, flipped, depthwise ? [cout, 1, kh, kw] : [cin, cout, kh, kw]);
                addGrad(inTensors[0], g.op('Conv', [gPre, wFlip], `${name}_grad`, {
                  kernel_shape: { ints: [kh, kw] },
                  pads: { ints: [kh - 1 - pads[0], kw - 1 - pads[1], kh - 1 - pads[2], kw - 1 - pads[3]] },
                  group: { int: depthwise ? cin : 1 },
                }));
                return;
              }
              addGrad(inTensors[0], g.op('ConvTranspose', [gPre, wName], `${name}_grad`, {
                kernel_shape: { ints: [kh, kw] },
                strides: { ints: [sh, sw] },
                dilations: { ints: [dh, dw] },
                pads: { ints: pads },
                output_padding: { ints: outPad },
                group: { int: depthwise ? cin : 1 },
              }));
            },
          });
        }
        continue;
      }
      case 'BatchNormalization': {
        const x = materialize(ins[0], name);
        const c = x.layout === 'flat' ? x.shape[0] : x.shape[2];
        const bn = batchNormParams(layer, c);
        const scale = Float32Array.from(bn.gamma, (gm, i) => gm / Math.sqrt(bn.variance[i] + bn.epsilon));
        const shift = Float32Array.from(bn.beta, (bt, i) => bt - bn.mean[i] * scale[i]);
        const dims = x.layout === 'flat' ? [1, c] : [1, c, 1, 1];
        const scaleName = g.floats(`${name}_scale`, scale, dims);
        const mul = g.op('Mul', [x.name, scaleName], `${name}_mul`);
        out = { name: g.op('Add', [mul, g.floats(`${name}_shift`, shift, dims)], name), layout: x.layout, shape: outShape };
        grad((gy) => addGrad(inTensors[0], g.op('Mul', [gy, scaleName], `${name}_grad`)));
        break;
      }
      case 'Activation':
      case 'ReLU': {
        const x = materialize(ins[0], name);
        const act = cls === 'ReLU' ? 'relu' : (cfg.activation as string);
        const post = activate(g, x.name, act, name, x.layout);
        out = { name: post, layout: x.layout, shape: outShape };
        grad((gy) => addGrad(inTensors[0], activationGrad(g, gy, x.name, post, act, name)));
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        const x = materialize(ins[0], name);
        const avg = cls === 'GlobalAveragePooling2D';
        const pooled = g.op(avg ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], `${name}_pool`);
        out = { name: g.op('Flatten', [pooled], name, { axis: { int: 1 } }), layout: 'flat', shape: outShape };
        grad((gy) => {
          const [h, w, c] = x.shape;
          const g4 = g.op('Reshape', [gy, g.int64s(`${name}_grad_shape`, [-1, c, 1, 1])], `${name}_grad4`);
          if (avg) {
            // Every position gets 1/(h·w) of the gradient.
            const scaled = g.op('Mul', [g4, constant(`${name}_grad_scale`, 1 / (h * w))], `${name}_grad_scaled`);
            addGrad(inTensors[0], g.op('Expand', [scaled, g.op('Shape', [x.name], `${name}_shape`)], `${name}_grad`));
          } else {
            // The maximum's position(s) get the gradient.
            const mask = g.op('Cast', [g.op('Equal', [x.name, pooled], `${name}_argmax`)], `${name}_mask`, { to: { int: 1 } });
            addGrad(inTensors[0], g.op('Mul', [mask, g4], `${name}_grad`));
          }
        });
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
        grad(noGrad(layer));
        break;
      }
      case 'Reshape': {
        const x = materialize(ins[0], name);
        const target = cfg.targetShape as number[];
        if (target.length === 3 && target[0] === 1 && target[1] === 1) {
          // [N, C] → [N, 1, 1, C] in NHWC is [N, C, 1, 1] in NCHW: the same bytes.
          out = { name: g.op('Reshape', [x.name, g.int64s(`${name}_shape`, [-1, target[2], 1, 1])], name), layout: 'nchw', shape: outShape };
          grad((gy) => addGrad(inTensors[0], g.op('Reshape', [gy, g.int64s(`${name}_grad_shape`, [-1, target[2]])], `${name}_grad`)));
        } else {
          grad(noGrad(layer));
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
        grad(noGrad(layer));
        break;
      }
      case 'Multiply':
      case 'Add': {
        const xs = ins.map((v, i) => materialize(v, `${name}_${i}`));
        sameLayout(xs, name);
        let acc = xs[0].name;
        for (let i = 1; i < xs.length; i++) acc = g.op(cls === 'Add' ? 'Add' : 'Mul', [acc, xs[i].name], i === xs.length - 1 ? name : `${name}_${i}`);
        out = { name: acc, layout: xs[0].layout, shape: outShape };
        grad((gy) => {
          if (cls === 'Multiply' && xs.length !== 2) throw new ExportError(`${name}: no gradient for a product of ${xs.length} tensors`);
          xs.forEach((x, i) => {
            const local = cls === 'Add' ? gy : g.op('Mul', [gy, xs[1 - i].name], `${name}_grad${i}_full`);
            addGrad(inTensors[i], reduceTo(g, local, x, outShape, `${name}_grad${i}`));
          });
        });
        break;
      }
      case 'CustomScaleLayer': {
        const xs = ins.map((v, i) => materialize(v, `${name}_${i}`));
        sameLayout(xs, name);
        const scaled = g.op('Mul', [xs[1].name, g.floats(`${name}_scale`, Float32Array.of(cfg.scale as number), [])], `${name}_scaled`);
        out = { name: g.op('Add', [xs[0].name, scaled], name), layout: xs[0].layout, shape: outShape };
        grad(noGrad(layer));
        break;
      }
      case 'Concatenate': {
        const xs = ins.map((v, i) => materialize(v, `${name}_${i}`));
        sameLayout(xs, name);
        const axis = cfg.axis as number;
        const rank = xs[0].shape.length;
        if (axis !== -1 && axis !== rank) throw new ExportError(`${name}: concatenation on axis ${axis} is not supported`);
        out = { name: g.op('Concat', xs.map((v) => v.name), name, { axis: { int: 1 } }), layout: xs[0].layout, shape: outShape };
        grad(noGrad(layer));
        break;
      }
      case 'Dropout':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
      case 'GaussianDropout':
        out = ins[0];
        grad((gy) => addGrad(inTensors[0], gy));
        break;
      case 'Dense': {
        const x = materialize(ins[0], name);
        if (x.layout !== 'flat') throw new ExportError(`${name}: Dense on a feature map is not supported`);
        const units = cfg.units as number;
        const kernel = weight(layer, 'kernel');
        const wName = g.floats(`${name}_W`, kernel, [x.shape[0], units]);
        const inputs = [x.name, wName];
        if (cfg.useBias as boolean) inputs.push(g.floats(`${name}_B`, weight(layer, 'bias'), [units]));
        const gemm = g.op('Gemm', inputs, `${name}_gemm`);
        const act = cfg.activation as string;
        const post = activate(g, gemm, act, name, 'flat');
        out = { name: post, layout: 'flat', shape: outShape };
        const isOutput = outId === outputTensor.id;
        if (isOutput) {
          logitsName = gemm;
          unitsOut = units;
        }
        grad((gy) => {
          // The output layer's seed is given as ∂score/∂logits: its activation is not differentiated.
          const gPre = isOutput ? ONNX_LOGITS_GRAD : activationGrad(g, gy, gemm, post, act, name);
          addGrad(inTensors[0], g.op('Gemm', [gPre, wName], `${name}_grad`, { transB: { int: 1 } }));
        });
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
  if (wantGrad) {
    if (!logitsName) throw new ExportError('the output layer is not a Dense layer: no logits to differentiate');
    g.input(ONNX_LOGITS_GRAD, ['batch', unitsOut]);
    // The seed enters at the output layer's pre-activation, whatever gradient reaches its output.
    addGrad(outputTensor, ONNX_LOGITS_GRAD);
    for (const step of back.reverse()) {
      const gy = gradOf(step.outId, `t${step.outId}`);
      if (gy) step.run(gy);
    }
    const inputLayer = model.layers.find((l) => l.getClassName() === 'InputLayer')!;
    const gIn = gradOf((inputLayer.output as tf.SymbolicTensor).id, 'input');
    if (!gIn) throw new ExportError('the input gets no gradient');
    g.output(g.op('Transpose', [gIn], 'input_grad_nhwc', { perm: { ints: [0, 2, 3, 1] } }), ONNX_INPUT_GRAD, ['batch', ...(inputLayer.outputShape as number[]).slice(1)]);
    g.output(logitsName, ONNX_LOGITS, ['batch', unitsOut]);
    outputs.push(ONNX_INPUT_GRAD, ONNX_LOGITS);
  }
  const featureName = opts.featureLayer ?? FEATURE_LAYER;
  const featureLayer = wantGrad ? undefined : model.layers.find((l) => l.name === featureName);
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
function flipKernel(w: Float32Array, o: number, i: number, kh: number, kw: number, swap: boolean): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
    const src = ((a * i + b) * kh + y) * kw + x;
    const dst = swap ? ((b * o + a) * kh + (kh - 1 - y)) * kw + (kw - 1 - x) : ((a * i + b) * kh + (kh - 1 - y)) * kw + (kw - 1 - x);
    out[dst] = w[src];
  }
  return out;
}

/** ∂y/∂x · gy for y = activation(x), from x (`pre`) and y (`post`). */
function activationGrad(g: GraphBuilder, gy: string, pre: string, post: string, activation: string, name: string): string {
  const one = () => g.floats(`${name}_one`, Float32Array.of(1), []);
  switch (activation) {
    case 'linear':
      return gy;
    case 'relu':
      return g.op('Mul', [gy, g.op('Sign', [post], `${name}_relu_mask`)], `${name}_act_grad`);
    case 'relu6': {
      // 1 where 0 < y < 6: sign(y) · sign(6 − y), both 0 or 1 on the clipped output.
      const six = g.floats(`${name}_six`, Float32Array.of(6), []);
      const mask = g.op('Mul', [g.op('Sign', [post], `${name}_relu_mask`), g.op('Sign', [g.op('Sub', [six, post], `${name}_6my`)], `${name}_relu6_mask`)], `${name}_mask`);
      return g.op('Mul', [gy, mask], `${name}_act_grad`);
    }
    case 'sigmoid':
      return g.op('Mul', [gy, g.op('Mul', [post, g.op('Sub', [one(), post], `${name}_1m`)], `${name}_dsig`)], `${name}_act_grad`);
    case 'tanh':
      return g.op('Mul', [gy, g.op('Sub', [one(), g.op('Mul', [post, post], `${name}_sq`)], `${name}_dtanh`)], `${name}_act_grad`);
    case 'swish': {
      // d/dx x·σ(x) = σ(x) · (1 + x·(1 − σ(x)))
      const s = g.op('Sigmoid', [pre], `${name}_grad_sigmoid`);
      const inner = g.op('Add', [one(), g.op('Mul', [pre, g.op('Sub', [one(), s], `${name}_1ms`)], `${name}_x1ms`)], `${name}_inner`);
      return g.op('Mul', [gy, g.op('Mul', [s, inner], `${name}_dswish`)], `${name}_act_grad`);
    }
    default:
      throw new ExportError(`${name}: no gradient for activation '${activation}'`);
  }
}

/** Sums a broadcast gradient back to the shape of an input (tfjs shapes without batch, [h, w, c] or [c]). */
function reduceTo(g: GraphBuilder, grad: string, x: Value, outShape: number[], name: string): string {
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

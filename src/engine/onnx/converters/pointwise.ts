// Converters of layers that act on each value (or each channel) alone: the input, normalisation, batch
// norm, activations, zero padding (kept pending for the next convolution) and the layers that are the
// identity at inference (dropout, noise).
import type { ExportContext, LayerInput } from '../export-context.js';
import { activate, activationGrad, batchNormParams, weight } from '../export-ops.js';
import { ExportError, ONNX_INPUT, type Value } from '../export-types.js';
import { trainableBatchNorm } from './batch-norm-train.js';

export function inputLayer(ctx: ExportContext, l: LayerInput): Value {
  const [h, w, c] = l.outShape;
  ctx.g.input(ONNX_INPUT, ['batch', h, w, c]);
  return { name: ctx.g.op('Transpose', [ONNX_INPUT], 'input_nchw', { perm: { ints: [0, 3, 1, 2] } }), layout: 'nchw', shape: l.outShape };
}

/** A per-channel x · scale + shift, with its gradient gy · scale. */
function scaleShift(ctx: ExportContext, l: LayerInput, x: Value, scale: Float32Array, shift: Float32Array): Value {
  const { g } = ctx;
  const dims = x.layout === 'flat' ? [1, scale.length] : [1, scale.length, 1, 1];
  const scaleName = g.floats(`${l.name}_scale`, scale, dims);
  const mul = g.op('Mul', [x.name, scaleName], `${l.name}_mul`);
  l.grad((gy) => ctx.addGrad(l.inTensors[0], g.op('Mul', [gy, scaleName], `${l.name}_grad`)));
  return { name: g.op('Add', [mul, g.floats(`${l.name}_shift`, shift, dims)], l.name), layout: x.layout, shape: l.outShape };
}

export function normalization(ctx: ExportContext, l: LayerInput): Value {
  const mean = weight(l.layer, 'mean');
  const inv = Float32Array.from(weight(l.layer, 'variance'), (v) => 1 / Math.sqrt(Math.max(v, 1e-7)));
  return scaleShift(
    ctx,
    l,
    { ...l.ins[0], layout: 'nchw' },
    inv,
    Float32Array.from(mean, (m, i) => -m * inv[i]),
  );
}

export function batchNormalization(ctx: ExportContext, l: LayerInput): Value {
  const x = ctx.materialize(l.ins[0], l.name);
  const bn = batchNormParams(l.layer, x.layout === 'flat' ? x.shape[0] : x.shape[2]);
  const [gamma, beta] = [ctx.param(l.layer, 'gamma'), ctx.param(l.layer, 'beta')];
  if (gamma || beta || ctx.training?.batchNorm === 'batch') return trainableBatchNorm(ctx, l, x, bn, gamma, beta);
  const scale = Float32Array.from(bn.gamma, (gm, i) => gm / Math.sqrt(bn.variance[i] + bn.epsilon));
  return scaleShift(
    ctx,
    l,
    x,
    scale,
    Float32Array.from(bn.beta, (bt, i) => bt - bn.mean[i] * scale[i]),
  );
}

export function activation(ctx: ExportContext, l: LayerInput): Value {
  const x = ctx.materialize(l.ins[0], l.name);
  const act = l.cls === 'ReLU' ? 'relu' : (l.cfg.activation as string);
  const post = activate(ctx.g, x.name, act, l.name, x.layout);
  l.grad((gy) => ctx.addGrad(l.inTensors[0], activationGrad(ctx.g, gy, x.name, post, act, l.name)));
  return { name: post, layout: x.layout, shape: l.outShape };
}

/** Kept pending: the convolution that takes it as pads crops its gradient to the unpadded tensor. */
export function zeroPadding(ctx: ExportContext, l: LayerInput): Value {
  const [[t, b], [left, r]] = l.cfg.padding as [[number, number], [number, number]];
  const prev = l.ins[0].pad ?? [0, 0, 0, 0];
  l.grad((gy) => ctx.addGrad(l.inTensors[0], gy));
  return { ...l.ins[0], shape: l.outShape, pad: [prev[0] + t, prev[1] + b, prev[2] + left, prev[3] + r] };
}

export function identity(ctx: ExportContext, l: LayerInput): Value {
  l.grad((gy) => ctx.addGrad(l.inTensors[0], gy));
  return l.ins[0];
}

/**
 * The identity, but on a training graph that asks for it: the mask is an input (`dropout_<layer>`, kept
 * values 1/(1 − rate), dropped 0), drawn by the trainer as tfjs draws it, from its seeded random numbers,
 * so that a run repeats exactly, across resumes too. A noise shape of [batch, 1, 1, 1] (EfficientNet's stochastic depth)
 * drops whole images' branches: its mask has that shape and is broadcast.
 */
export function dropout(ctx: ExportContext, l: LayerInput): Value {
  const rate = l.cfg.rate as number;
  if (!ctx.training?.dropout || !rate) return identity(ctx, l);
  const { g } = ctx;
  const x = ctx.materialize(l.ins[0], l.name);
  const noise = l.cfg.noiseShape as Array<number | null> | null | undefined;
  const perImage = !!noise && noise.slice(1).every((d) => d === 1);
  if (noise && !perImage) throw new ExportError(`${l.name}: dropout with noise shape [${noise.join(', ')}] is not supported`);
  // The mask in tfjs's layout (the order tfjs draws it in): [N, 1, 1, 1], [N, H, W, C] or [N, C].
  const shape = perImage ? [1, 1, 1] : x.shape;
  const input = g.input(`dropout_${l.name}`, ['batch', ...shape]);
  ctx.dropoutMasks.push({ input, rate, shape });
  const mask = x.layout === 'nchw' && !perImage ? g.op('Transpose', [input], `${l.name}_mask_nchw`, { perm: { ints: [0, 3, 1, 2] } }) : input;
  l.grad((gy) => ctx.addGrad(l.inTensors[0], g.op('Mul', [gy, mask], `${l.name}_grad`)));
  return { name: g.op('Mul', [x.name, mask], l.name), layout: x.layout, shape: l.outShape };
}

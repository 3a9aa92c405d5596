// Converters of layers that reshape or merge tensors: Reshape, Flatten, Add, Multiply, the scaled add of
// InceptionResNetV2's blocks, Concatenate, and Dense (whose pre-activation is the gradient graph's `logits`).
import type { ExportContext, LayerInput } from '../export-context.js';
import { activate, activationGrad, reduceTo, sameLayout, weight } from '../export-ops.js';
import type * as tf from '@tensorflow/tfjs';
import { ExportError, ONNX_ACTIVITY_SCALE, type Value } from '../export-types.js';
import { regularize } from './regularize.js';

const TO_NHWC = { perm: { ints: [0, 2, 3, 1] } };

export function reshape(ctx: ExportContext, l: LayerInput): Value {
  const { g } = ctx;
  const { name } = l;
  const x = ctx.materialize(l.ins[0], name);
  const target = l.cfg.targetShape as number[];
  if (target.length === 3 && target[0] === 1 && target[1] === 1) {
    // [N, C] → [N, 1, 1, C] in NHWC is [N, C, 1, 1] in NCHW: the same bytes.
    l.grad((gy) => ctx.addGrad(l.inTensors[0], g.op('Reshape', [gy, g.int64s(`${name}_grad_shape`, [-1, target[2]])], `${name}_grad`)));
    return { name: g.op('Reshape', [x.name, g.int64s(`${name}_shape`, [-1, target[2], 1, 1])], name), layout: 'nchw', shape: l.outShape };
  }
  l.grad(ctx.noGrad(l.layer));
  const nhwc = x.layout === 'nchw' ? g.op('Transpose', [x.name], `${name}_nhwc`, TO_NHWC) : x.name;
  const reshaped = g.op('Reshape', [nhwc, g.int64s(`${name}_shape`, [-1, ...target])], target.length === 3 ? `${name}_reshape` : name);
  if (target.length === 3) return { name: g.op('Transpose', [reshaped], name, { perm: { ints: [0, 3, 1, 2] } }), layout: 'nchw', shape: l.outShape };
  if (target.length === 1) return { name: reshaped, layout: 'flat', shape: l.outShape };
  throw new ExportError(`${name}: reshape to ${target.length} dimensions is not supported`);
}

export function flatten(ctx: ExportContext, l: LayerInput): Value {
  const x = ctx.materialize(l.ins[0], l.name);
  const nhwc = x.layout === 'nchw' ? ctx.g.op('Transpose', [x.name], `${l.name}_nhwc`, TO_NHWC) : x.name;
  l.grad(ctx.noGrad(l.layer));
  return { name: ctx.g.op('Flatten', [nhwc], l.name, { axis: { int: 1 } }), layout: 'flat', shape: l.outShape };
}

/** The inputs with their padding applied, in one layout. */
function merged(ctx: ExportContext, l: LayerInput): Value[] {
  const xs = l.ins.map((v, i) => ctx.materialize(v, `${l.name}_${i}`));
  sameLayout(xs, l.name);
  return xs;
}

export function addOrMultiply(ctx: ExportContext, l: LayerInput): Value {
  const { g } = ctx;
  const { name, cls } = l;
  const xs = merged(ctx, l);
  let acc = xs[0].name;
  for (let i = 1; i < xs.length; i++) acc = g.op(cls === 'Add' ? 'Add' : 'Mul', [acc, xs[i].name], i === xs.length - 1 ? name : `${name}_${i}`);
  l.grad((gy) => {
    if (cls === 'Multiply' && xs.length !== 2) throw new ExportError(`${name}: no gradient for a product of ${xs.length} tensors`);
    xs.forEach((x, i) => {
      const local = cls === 'Add' ? gy : g.op('Mul', [gy, xs[1 - i].name], `${name}_grad${i}_full`);
      ctx.addGrad(l.inTensors[i], reduceTo(g, local, x, l.outShape, `${name}_grad${i}`));
    });
  });
  return { name: acc, layout: xs[0].layout, shape: l.outShape };
}

/** InceptionResNetV2's x + scale · branch; the branch's gradient is scaled alike. */
export function customScale(ctx: ExportContext, l: LayerInput): Value {
  const xs = merged(ctx, l);
  const scale = ctx.g.floats(`${l.name}_scale`, Float32Array.of(l.cfg.scale as number), []);
  const scaled = ctx.g.op('Mul', [xs[1].name, scale], `${l.name}_scaled`);
  l.grad((gy) => {
    ctx.addGrad(l.inTensors[0], gy);
    ctx.addGrad(l.inTensors[1], ctx.g.op('Mul', [gy, scale], `${l.name}_grad1`));
  });
  return { name: ctx.g.op('Add', [xs[0].name, scaled], l.name), layout: xs[0].layout, shape: l.outShape };
}

export function concatenate(ctx: ExportContext, l: LayerInput): Value {
  const xs = merged(ctx, l);
  const axis = l.cfg.axis as number;
  if (axis !== -1 && axis !== xs[0].shape.length) throw new ExportError(`${l.name}: concatenation on axis ${axis} is not supported`);
  // The gradient is split back along the channels.
  const widths = xs.map((v) => (v.layout === 'flat' ? v.shape[0] : v.shape[2]));
  l.grad((gy) => {
    const parts = ctx.g.node('Split', [gy, ctx.g.int64s(`${l.name}_grad_split`, widths)], `${l.name}_grad`, { axis: { int: 1 } }, xs.length);
    parts.forEach((part, i) => ctx.addGrad(l.inTensors[i], part));
  });
  return {
    name: ctx.g.op(
      'Concat',
      xs.map((v) => v.name),
      l.name,
      { axis: { int: 1 } },
    ),
    layout: xs[0].layout,
    shape: l.outShape,
  };
}

export function dense(ctx: ExportContext, l: LayerInput): Value {
  const { g } = ctx;
  const { name } = l;
  const x = ctx.materialize(l.ins[0], name);
  if (x.layout !== 'flat') throw new ExportError(`${name}: Dense on a feature map is not supported`);
  const units = l.cfg.units as number;
  const [kernel, bias] = [ctx.param(l.layer, 'kernel'), ctx.param(l.layer, 'bias')];
  const wName = kernel?.name ?? g.floats(`${name}_W`, weight(l.layer, 'kernel'), [x.shape[0], units]);
  const inputs = [x.name, wName];
  if (l.cfg.useBias as boolean) inputs.push(bias?.name ?? g.floats(`${name}_B`, weight(l.layer, 'bias'), [units]));
  const gemm = g.op('Gemm', inputs, `${name}_gemm`);
  const act = l.cfg.activation as string;
  const post = activate(g, gemm, act, name, 'flat');
  const isOutput = l.outId === ctx.outputTensor.id;
  if (isOutput) ctx.logits = { name: gemm, units, activation: act };
  if (ctx.training?.activityLayer === name) activityL1(ctx, l, post);
  l.grad((gy) => {
    // The output layer's seed is given as ∂score/∂logits (or the loss's): its activation is not differentiated.
    const gPre = isOutput ? ctx.seed : activationGrad(g, gy, gemm, post, act, name);
    if (kernel) ctx.weightGrad(kernel.k, regularize(ctx, l, 'kernel', kernel.name, g.op('Gemm', [x.name, gPre], `${name}_dW`, { transA: { int: 1 } })));
    if (bias) ctx.weightGrad(bias.k, regularize(ctx, l, 'bias', bias.name, g.op('ReduceSum', [gPre, g.int64s(`${name}_dB_axes`, [0])], `${name}_dB`, { keepdims: { int: 0 } })));
    if (ctx.needsGrad(l.inTensors[0])) ctx.addGrad(l.inTensors[0], g.op('Gemm', [gPre, wName], `${name}_grad`, { transB: { int: 1 } }));
  });
  return { name: post, layout: 'flat', shape: l.outShape };
}

/** The head's L1 on its hidden layer's activity (tfjs-layers cannot add it itself): a loss term and its gradient. */
function activityL1(ctx: ExportContext, l: LayerInput, post: string): void {
  const { g } = ctx;
  const scale = ctx.scalarInput(ONNX_ACTIVITY_SCALE);
  ctx.lossTerms.push(g.op('Mul', [g.op('ReduceL1', [post], `${l.name}_activity_l1`, { keepdims: { int: 0 } }), scale], `${l.name}_activity_loss`));
  ctx.addGrad(l.layer.output as tf.SymbolicTensor, g.op('Mul', [ctx.absGrad(post, `${l.name}_activity`), scale], `${l.name}_activity_grad`));
}

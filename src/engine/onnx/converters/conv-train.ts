// A convolution's parts on a training graph: its kernel and bias as graph inputs in tfjs's layout
// (turned to ONNX's in the graph), and their gradients turned back.
import type { ExportContext, LayerInput } from '../export-context.js';
import { ExportError, type Value } from '../export-types.js';
import { regularize } from './regularize.js';

/** The geometry of a Conv2D or DepthwiseConv2D. */
export interface ConvGeometry {
  depthwise: boolean;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  cin: number;
  cout: number;
  pads: number[];
}

const perm = (ints: number[]) => ({ perm: { ints } });

/** Trainable kernel and bias as graph inputs, in ONNX's layout; null where they are constants. */
export function trainableConvWeights(ctx: ExportContext, l: LayerInput, k: ConvGeometry) {
  const kernel = ctx.param(l.layer, k.depthwise ? 'depthwise_kernel' : 'kernel');
  const bias = ctx.param(l.layer, 'bias');
  if ((kernel || bias) && (k.dh !== 1 || k.dw !== 1)) throw new ExportError(`${l.name}: no weight gradient for a dilated convolution`);
  // tfjs [kh, kw, cin, cout] → [cout, cin, kh, kw]; depthwise [kh, kw, cin, 1] → [cin, 1, kh, kw].
  const oihw = kernel && ctx.g.op('Transpose', [kernel.name], `${l.name}_W`, perm(k.depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1]));
  return { kernel, bias, oihw };
}

/** The kernel rotated by 180° (and for a full convolution, in/out channels exchanged), in the graph. */
export function flippedKernel(ctx: ExportContext, l: LayerInput, oihw: string, depthwise: boolean, k: ConvGeometry): string {
  const { g } = ctx;
  // A 1×1 kernel is its own rotation: only the channels are exchanged.
  if (k.kh === 1 && k.kw === 1) return depthwise ? oihw : g.op('Transpose', [oihw], `${l.name}_W_flipped`, perm([1, 0, 2, 3]));
  const flip = g.op(
    'Slice',
    [
      oihw,
      g.int64s(`${l.name}_flip_starts`, [-1, -1]),
      g.int64s(`${l.name}_flip_ends`, [Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]),
      g.int64s(`${l.name}_flip_axes`, [2, 3]),
      g.int64s(`${l.name}_flip_steps`, [-1, -1]),
    ],
    `${l.name}_W_flip`,
  );
  return depthwise ? flip : g.op('Transpose', [flip], `${l.name}_W_flipped`, perm([1, 0, 2, 3]));
}

/**
 * ∂loss/∂kernel in tfjs's layout from the input x and gPre, the gradient at the convolution's output
 * [N, cout, Ho, Wo]. A 1×1 convolution's is a matrix product over the batch's pixels; any other is a
 * convolution of the input by the output's gradient with batch and channels exchanged (strides become
 * dilations), grouped per channel for a depthwise one, cropped to the kernel's size.
 */
function kernelGrad(ctx: ExportContext, l: LayerInput, x: Value, k: ConvGeometry, gPre: string): string {
  const { g } = ctx;
  const n = l.name;
  if (!k.depthwise && k.kh === 1 && k.kw === 1 && k.sh === 1 && k.sw === 1 && k.pads.every((p) => p === 0)) {
    if (k.cout < k.cin) {
      // Transposing the smaller of the two maps: x [N, cin, HW] · ∂yᵀ [N, HW, cout] is already [cin, cout].
      const gyT = g.op('Transpose', [g.reshape(gPre, [0, k.cout, -1], `${n}_gy3`)], `${n}_gy3t`, perm([0, 2, 1]));
      const io = g.op('MatMul', [g.reshape(x.name, [0, k.cin, -1], `${n}_x3`), gyT], `${n}_dW_each`);
      const summed = g.op('ReduceSum', [io, g.int64s(`${n}_dW_axes`, [0])], `${n}_dW_io`, { keepdims: { int: 0 } });
      return g.reshape(summed, [1, 1, k.cin, k.cout], `${n}_dW`);
    }
    const xT = g.op('Transpose', [g.reshape(x.name, [0, k.cin, -1], `${n}_x3`)], `${n}_x3t`, perm([0, 2, 1]));
    const perImage = g.op('MatMul', [g.reshape(gPre, [0, k.cout, -1], `${n}_gy3`), xT], `${n}_dW_each`);
    const oi = g.op('ReduceSum', [perImage, g.int64s(`${n}_dW_axes`, [0])], `${n}_dW_oi`, { keepdims: { int: 0 } });
    return g.reshape(g.op('Transpose', [oi], `${n}_dW_io`, perm([1, 0])), [1, 1, k.cin, k.cout], `${n}_dW`);
  }
  let xs = g.op('Transpose', [x.name], `${n}_x_cn`, perm([1, 0, 2, 3]));
  if (k.depthwise) xs = g.reshape(xs, [1, -1, 0, 0], `${n}_x_grouped`);
  const gs = g.op('Transpose', [gPre], `${n}_gy_cn`, perm([1, 0, 2, 3]));
  const attrs = { dilations: { ints: [k.sh, k.sw] }, strides: { ints: [1, 1] }, pads: { ints: k.pads }, group: { int: k.depthwise ? k.cin : 1 } };
  const full = g.op('Conv', [xs, gs], `${n}_dW_full`, attrs);
  const crop = g.op('Slice', [full, g.int64s(`${n}_dW_starts`, [0, 0]), g.int64s(`${n}_dW_ends`, [k.kh, k.kw]), g.int64s(`${n}_dW_axes`, [2, 3])], `${n}_dW_crop`);
  // Full: [cin, cout, kh, kw] → [kh, kw, cin, cout]. Depthwise: [1, C, kh, kw] → [kh, kw, C, 1].
  return k.depthwise ? g.op('Transpose', [crop], `${n}_dW`, perm([2, 3, 1, 0])) : g.op('Transpose', [crop], `${n}_dW`, perm([2, 3, 0, 1]));
}

/** Adds the gradients of the trainable kernel and bias (their regularisers' included) as graph outputs. */
export function convWeightGrads(ctx: ExportContext, l: LayerInput, x: Value, k: ConvGeometry, w: ReturnType<typeof trainableConvWeights>, gPre: string): void {
  const { g } = ctx;
  if (w.kernel) ctx.weightGrad(w.kernel.k, regularize(ctx, l, 'kernel', w.kernel.name, kernelGrad(ctx, l, x, k, gPre)));
  if (w.bias) {
    const db = g.op('ReduceSum', [gPre, g.int64s(`${l.name}_dB_axes`, [0, 2, 3])], `${l.name}_dB`, { keepdims: { int: 0 } });
    ctx.weightGrad(w.bias.k, regularize(ctx, l, 'bias', w.bias.name, db));
  }
}

// Conv2D and DepthwiseConv2D: weights to OIHW, a following batch norm folded in, pending zero padding
// taken as pads; the gradient is the transposed convolution (a flipped plain one at stride 1). On a
// training graph, trainable weights are inputs and get their gradients (conv-train.ts).
import type * as tf from '@tensorflow/tfjs';
import type { ExportContext, LayerInput } from '../export-context.js';
import { activate, activationGrad, batchNormParams, convPads, convToOihw, depthwiseToOihw, flipKernel, foldIntoConv, weight } from '../export-ops.js';
import { ExportError, type Value } from '../export-types.js';
import { convWeightGrads, flippedKernel, trainableConvWeights, type ConvGeometry } from './conv-train.js';

/** The kernel in OIHW with its bias, a following batch norm folded in where it can be. */
function weightsOf(ctx: ExportContext, l: LayerInput, k: ConvGeometry, multiplier: number) {
  const raw = weight(l.layer, k.depthwise ? 'depthwise_kernel' : 'kernel');
  let w = k.depthwise ? depthwiseToOihw(raw, k.kh, k.kw, k.cin, multiplier) : convToOihw(raw, k.kh, k.kw, k.cin, l.cfg.filters as number);
  let bias: Float32Array = (l.cfg.useBias as boolean) ? weight(l.layer, 'bias') : new Float32Array(k.cout);
  let activation = l.cfg.activation as string;
  let result = l.layer.output as tf.SymbolicTensor;
  const next = ctx.consumers.get(result.id) ?? [];
  if (ctx.fold && activation === 'linear' && next.length === 1 && next[0].getClassName() === 'BatchNormalization') {
    ({ w, bias } = foldIntoConv(w, bias, batchNormParams(next[0], k.cout), k.cout));
    ctx.skip.add(next[0]);
    result = next[0].output as tf.SymbolicTensor;
    activation = 'linear';
    ctx.folded++;
  }
  return { w, bias, activation, result };
}

/** ∂/∂x: the transposed convolution with the same weights; output_padding restores the input size that
 *  striding rounded away, pads crop the zero padding. At unit stride, a plain convolution with the kernel
 *  flipped (and, for a full convolution, its in/out channels swapped), which ONNX Runtime runs much faster. */
function convBackward(
  ctx: ExportContext,
  l: LayerInput,
  x: Value,
  k: ConvGeometry,
  shape: number[],
  w: Float32Array,
  op: { conv: string; post: string; wName: string; activation: string; train: ReturnType<typeof trainableConvWeights> | null },
) {
  const { g } = ctx;
  const { kh, kw, sh, sw, dh, dw, pads, cin, cout, depthwise } = k;
  const inH = x.shape[0] - (x.pad?.[0] ?? 0) - (x.pad?.[1] ?? 0);
  const inW = x.shape[1] - (x.pad?.[2] ?? 0) - (x.pad?.[3] ?? 0);
  const outPad = [inH - (sh * (shape[0] - 1) + (kh - 1) * dh + 1 - pads[0] - pads[2]), inW - (sw * (shape[1] - 1) + (kw - 1) * dw + 1 - pads[1] - pads[3])];
  if (outPad.some((p, i) => p < 0 || p >= [sh, sw][i])) throw new ExportError(`${l.name}: no transposed convolution gives back ${inH}×${inW}`);
  const unitStride = sh === 1 && sw === 1 && dh === 1 && dw === 1 && pads[0] < kh && pads[2] < kh && pads[1] < kw && pads[3] < kw;
  return (gy: string) => {
    const gPre = activationGrad(g, gy, op.conv, op.post, op.activation, l.name);
    if (op.train) convWeightGrads(ctx, l, x, k, op.train, gPre);
    if (!ctx.needsGrad(l.inTensors[0])) return;
    if (unitStride) {
      const flipped = () => (depthwise ? flipKernel(w, cout, 1, kh, kw, false) : flipKernel(w, cout, cin, kh, kw, true));
      const wFlip = op.train?.oihw ? flippedKernel(ctx, l, op.train.oihw, depthwise, k) : g.floats(`${l.name}_W_flipped`, flipped(), depthwise ? [cout, 1, kh, kw] : [cin, cout, kh, kw]);
      const flippedPads = [kh - 1 - pads[0], kw - 1 - pads[1], kh - 1 - pads[2], kw - 1 - pads[3]];
      ctx.addGrad(l.inTensors[0], g.op('Conv', [gPre, wFlip], `${l.name}_grad`, { kernel_shape: { ints: [kh, kw] }, pads: { ints: flippedPads }, group: { int: depthwise ? cin : 1 } }));
      return;
    }
    const attrs = {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [sh, sw] },
      dilations: { ints: [dh, dw] },
      pads: { ints: pads },
      output_padding: { ints: outPad },
      group: { int: depthwise ? cin : 1 },
    };
    ctx.addGrad(l.inTensors[0], g.op('ConvTranspose', [gPre, op.wName], `${l.name}_grad`, attrs));
  };
}

/** Sets the value of its output itself (that of the folded batch norm, where one was folded): returns null. */
export function convolution(ctx: ExportContext, l: LayerInput): null {
  const { g } = ctx;
  const x = l.ins[0];
  const depthwise = l.cls === 'DepthwiseConv2D';
  const [kh, kw] = l.cfg.kernelSize as number[];
  const [sh, sw] = l.cfg.strides as number[];
  const [dh, dw] = (l.cfg.dilationRate as number[] | undefined) ?? [1, 1];
  const cin = x.shape[2];
  const multiplier = depthwise ? (l.cfg.depthMultiplier as number) : 1;
  const cout = depthwise ? cin * multiplier : (l.cfg.filters as number);
  const k: ConvGeometry = { depthwise, kh, kw, sh, sw, dh, dw, cin, cout, pads: convPads(x, l.cfg.padding as string, [kh, kw], [sh, sw], [dh, dw]) };
  const train = ctx.training ? trainableConvWeights(ctx, l, k) : null;
  const { w, bias, activation, result } = weightsOf(ctx, l, k, multiplier);
  const wName = train?.oihw ?? g.floats(`${l.name}_W`, w, depthwise ? [cout, 1, kh, kw] : [cout, cin, kh, kw]);
  const conv = g.op('Conv', [x.name, wName, train?.bias?.name ?? g.floats(`${l.name}_B`, bias, [cout])], `${l.name}_conv`, {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: [sh, sw] },
    dilations: { ints: [dh, dw] },
    pads: { ints: k.pads },
    group: { int: depthwise ? cin : 1 },
  });
  const shape = (result.shape as number[]).slice(1);
  const post = activate(g, conv, activation, l.name, 'nchw');
  ctx.values.set(result.id, { name: post, layout: 'nchw', shape });
  if (ctx.wantGrad) {
    if (depthwise && multiplier !== 1) throw new ExportError(`${l.name}: no gradient for a depth multiplier of ${multiplier}`);
    ctx.back.push({ outId: result.id, run: convBackward(ctx, l, x, k, shape, w, { conv, post, wName, activation, train }) });
  }
  return null;
}

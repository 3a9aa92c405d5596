// Converters of pooling layers: global average and max pooling (with their gradients: a 1/(h·w) share
// everywhere, or all to the maximum's position) and windowed pooling (its gradients in pooling-grad.ts).
import type { ExportContext, LayerInput } from '../export-context.js';
import { convPads } from '../export-ops.js';
import type { Value } from '../export-types.js';
import { averagePoolGrad, cropPadding, maxPoolGrad } from './pooling-grad.js';

export function globalPooling(ctx: ExportContext, l: LayerInput): Value {
  const { g } = ctx;
  const { name } = l;
  const x = ctx.materialize(l.ins[0], name);
  const avg = l.cls === 'GlobalAveragePooling2D';
  const pooled = g.op(avg ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], `${name}_pool`);
  l.grad((gy) => {
    const [h, w, c] = x.shape;
    const g4 = g.op('Reshape', [gy, g.int64s(`${name}_grad_shape`, [-1, c, 1, 1])], `${name}_grad4`);
    if (avg) {
      const scaled = g.op('Mul', [g4, ctx.constant(`${name}_grad_scale`, 1 / (h * w))], `${name}_grad_scaled`);
      ctx.addGrad(l.inTensors[0], g.op('Expand', [scaled, g.op('Shape', [x.name], `${name}_shape`)], `${name}_grad`));
    } else {
      const mask = g.op('Cast', [g.op('Equal', [x.name, pooled], `${name}_argmax`)], `${name}_mask`, { to: { int: 1 } });
      ctx.addGrad(l.inTensors[0], g.op('Mul', [mask, g4], `${name}_grad`));
    }
  });
  return { name: g.op('Flatten', [pooled], name, { axis: { int: 1 } }), layout: 'flat', shape: l.outShape };
}

/** Keras's zero padding before a pool counts as values (ONNX pads a max pool with −inf): it is applied. */
export function windowPooling(ctx: ExportContext, l: LayerInput): Value {
  const { g } = ctx;
  const max = l.cls === 'MaxPooling2D';
  const [ph, pw] = l.cfg.poolSize as number[];
  const [sh, sw] = l.cfg.strides as number[];
  const before = l.ins[0];
  const src = ctx.materialize(before, l.name, true);
  const pads = convPads(src, l.cfg.padding as string, [ph, pw], [sh, sw], [1, 1]);
  const attrs = { kernel_shape: { ints: [ph, pw] }, strides: { ints: [sh, sw] }, pads: { ints: pads } };
  // With a backward pass, the max pool also gives where each maximum was.
  const [out, indices] = max ? g.node('MaxPool', [src.name], l.name, attrs, ctx.wantGrad ? 2 : 1) : [g.op('AveragePool', [src.name], l.name, { ...attrs, count_include_pad: { int: 0 } })];
  l.grad((gy) => {
    const geometry = { kh: ph, kw: pw, sh, sw, pads, inH: src.shape[0], inW: src.shape[1], outH: l.outShape[0], outW: l.outShape[1] };
    const grad = max ? maxPoolGrad(ctx, l.name, src.name, indices, gy) : averagePoolGrad(ctx, l.name, src.shape[2], geometry, gy);
    ctx.addGrad(l.inTensors[0], cropPadding(ctx, l.name, before, grad));
  });
  return { name: out, layout: 'nchw', shape: l.outShape };
}

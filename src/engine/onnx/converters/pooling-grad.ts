// The backward steps of windowed pooling (the baselines' VGG-19, ResNet50, DenseNet-121, AlexNet and
// InceptionResNetV2): a max pool's gradient goes to the position of each window's maximum (ONNX's MaxPool
// gives them as flat indices, which ScatterElements adds into, windows that overlap included); an average
// pool's is spread evenly over each window's values (padding excluded, as Keras counts) by a transposed
// convolution of ones. Keras's zero padding before a pool was applied as a Pad: the gradient is cropped back.
import type { ExportContext } from '../export-context.js';
import type { Value } from '../export-types.js';

export interface PoolGeometry {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  /** ONNX pads [top, left, bottom, right] of the pool itself. */
  pads: number[];
  /** The pool's input (after any zero padding applied) and output sizes. */
  inH: number;
  inW: number;
  outH: number;
  outW: number;
}

/** Gradient of a MaxPool with respect to its input, from its output's gradient and its indices. */
export function maxPoolGrad(ctx: ExportContext, name: string, src: string, indices: string, gy: string): string {
  const { g } = ctx;
  const zeros = g.op('ConstantOfShape', [g.reshape(g.op('Size', [src], `${name}_size`), [1], `${name}_size1`)], `${name}_zeros`);
  const scattered = g.op('ScatterElements', [zeros, g.reshape(indices, [-1], `${name}_indices_flat`), g.reshape(gy, [-1], `${name}_gy_flat`)], `${name}_scattered`, {
    axis: { int: 0 },
    reduction: { string: 'add' },
  });
  return g.op('Reshape', [scattered, g.op('Shape', [src], `${name}_src_shape`)], `${name}_grad_padded`);
}

/** Gradient of an AveragePool (count_include_pad 0) with respect to its input. */
export function averagePoolGrad(ctx: ExportContext, name: string, channels: number, p: PoolGeometry, gy: string): string {
  const { g } = ctx;
  // How many real values each window averaged: the same for every channel and image.
  const counts = new Float32Array(p.outH * p.outW);
  for (let y = 0; y < p.outH; y++)
    for (let x = 0; x < p.outW; x++) {
      const rows = Math.min(y * p.sh - p.pads[0] + p.kh, p.inH) - Math.max(y * p.sh - p.pads[0], 0);
      const cols = Math.min(x * p.sw - p.pads[1] + p.kw, p.inW) - Math.max(x * p.sw - p.pads[1], 0);
      counts[y * p.outW + x] = rows * cols;
    }
  const shared = g.op('Div', [gy, g.floats(`${name}_counts`, counts, [1, 1, p.outH, p.outW])], `${name}_grad_shared`);
  const ones = g.floats(`${name}_ones`, new Float32Array(channels * p.kh * p.kw).fill(1), [channels, 1, p.kh, p.kw]);
  const outputPadding = [p.inH - (p.sh * (p.outH - 1) + p.kh - p.pads[0] - p.pads[2]), p.inW - (p.sw * (p.outW - 1) + p.kw - p.pads[1] - p.pads[3])];
  const attrs = { kernel_shape: { ints: [p.kh, p.kw] }, strides: { ints: [p.sh, p.sw] }, pads: { ints: p.pads }, output_padding: { ints: outputPadding }, group: { int: channels } };
  return g.op('ConvTranspose', [shared, ones], `${name}_grad_padded`, attrs);
}

/** The gradient of a padded tensor cropped to the tensor before Keras's zero padding (none: as it is). */
export function cropPadding(ctx: ExportContext, name: string, before: Value, grad: string): string {
  if (!before.pad) return grad;
  const [t, , l] = before.pad;
  const [h, w] = [before.shape[0] - before.pad[0] - before.pad[1], before.shape[1] - before.pad[2] - before.pad[3]];
  const { g } = ctx;
  return g.op('Slice', [grad, g.int64s(`${name}_crop_starts`, [t, l]), g.int64s(`${name}_crop_ends`, [t + h, l + w]), g.int64s(`${name}_crop_axes`, [2, 3])], `${name}_grad`);
}

// Gradient kernels that @tensorflow/tfjs-backend-wasm 4.22 lacks: Conv2DBackpropFilter,
// DepthwiseConv2dNativeBackpropInput and DepthwiseConv2dNativeBackpropFilter. Without them every
// gradient through a convolution (Grad-CAM, Integrated Gradients, training) throws on wasm. We also
// replace its slow Conv2DBackpropInput.
// Each is composed from kernels the wasm backend does have (PadV2, StridedSlice, BatchMatMul,
// Multiply, Sum, Concat, Reverse, DepthwiseConv2dNative), called directly on the backend so that
// nothing is recorded on the gradient tape; intermediates are freed before returning.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

/** The slice of the backend API the kernels use (the wasm backend's class is not exported). */
type Backend = { disposeData(dataId: object): boolean };
type Inputs = Record<string, TensorInfo> | TensorInfo[];

/** Runs other wasm kernels and remembers every intermediate so that one call frees them all. */
class KernelScope {
  private readonly temps: TensorInfo[] = [];
  constructor(private readonly backend: Backend) {}

  run(name: string, inputs: Inputs, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = tf.getKernel(name, 'wasm');
    if (!kernel) throw new Error(`wasm backend has no ${name} kernel`);
    const out = kernel.kernelFunc({ inputs: inputs as never, attrs, backend: this.backend as never }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  stridedSlice(x: TensorInfo, begin: number[], end: number[], strides: number[]): TensorInfo {
    return this.run('StridedSlice', { x }, { begin, end, strides, beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 });
  }

  /** Frees every intermediate except `keep`, which becomes the kernel's output. */
  finish(keep: TensorInfo): TensorInfo {
    for (const t of this.temps) if (t !== keep) this.backend.disposeData(t.dataId);
    return keep;
  }

  /** Frees everything after a failure. */
  abandon(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
  }
}

function withScope(backend: Backend, body: (s: KernelScope) => TensorInfo): TensorInfo {
  const scope = new KernelScope(backend);
  try {
    return scope.finish(body(scope));
  } catch (err) {
    scope.abandon();
    throw err;
  }
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
}

function depthwiseInfo(inputShape: number[], filterShape: number[], a: ConvAttrs): tf.backend_util.Conv2DInfo {
  type Shape4 = [number, number, number, number];
  return tf.backend_util.computeConv2DInfo(inputShape as Shape4, filterShape as Shape4, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
}

function checkFormat(name: string, attrs: ConvAttrs): void {
  if (attrs.dataFormat && attrs.dataFormat !== 'NHWC') throw new Error(`${name} on wasm supports NHWC only, got ${attrs.dataFormat}`);
}

/** Zero-pads x so that every tap (i, j) can be read as one strided slice of outHeight × outWidth. */
function padForTaps(s: KernelScope, x: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const [, h, w] = x.shape;
  const needBottom = (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight - info.padInfo.top - h;
  const needRight = (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth - info.padInfo.left - w;
  return s.pad(x, [
    [0, 0],
    [info.padInfo.top, Math.max(0, needBottom)],
    [info.padInfo.left, Math.max(0, needRight)],
    [0, 0],
  ]);
}

/** The input window that filter tap (i, j) sees for every output position: [batch, outH, outW, channels]. */
function tapSlice(s: KernelScope, xPadded: TensorInfo, info: tf.backend_util.Conv2DInfo, i: number, j: number): TensorInfo {
  const [b, , , c] = xPadded.shape;
  const top = i * info.dilationHeight;
  const left = j * info.dilationWidth;
  return s.stridedSlice(
    xPadded,
    [0, top, left, 0],
    [b, top + (info.outHeight - 1) * info.strideHeight + 1, left + (info.outWidth - 1) * info.strideWidth + 1, c],
    [1, info.strideHeight, info.strideWidth, 1],
  );
}

/** dW[i, j, ci, co] = Σ_{b, oh, ow} x[b, oh·s + i − pad, ow·s + j − pad, ci] · dy[b, oh, ow, co]. */
const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  checkFormat('Conv2DBackpropFilter', a);
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode);
  const [kh, kw, ci, co] = a.filterShape;
  return withScope(backend as unknown as Backend, (s) => {
    const rows = dy.shape[0] * info.outHeight * info.outWidth;
    const dy3 = s.reshape(dy, [1, rows, co]);
    // wasm's BatchMatMul is 5× slower with transposeA than an explicit Transpose and a plain product, and
    // a transpose costs what it moves: transpose whichever of x and dy has fewer channels.
    const transposeDy = co < ci;
    const dyT = transposeDy ? s.run('Transpose', { x: dy3 }, { perm: [0, 2, 1] }) : dy3;
    const xPadded = padForTaps(s, x, info);
    const taps: TensorInfo[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const window = s.reshape(tapSlice(s, xPadded, info, i, j), [1, rows, ci]);
        if (transposeDy) {
          const tap = s.run('BatchMatMul', { a: dyT, b: window }, { transposeA: false, transposeB: false }); // [1, co, ci]
          taps.push(s.run('Transpose', { x: tap }, { perm: [0, 2, 1] }));
        } else {
          const windowT = s.run('Transpose', { x: window }, { perm: [0, 2, 1] });
          taps.push(s.run('BatchMatMul', { a: windowT, b: dy3 }, { transposeA: false, transposeB: false }));
        }
      }
    }
    const stacked = taps.length === 1 ? taps[0] : s.run('Concat', taps, { axis: 1 });
    return s.reshape(stacked, [kh, kw, ci, co]);
  });
};

/** The wasm backend's heap access (not part of its public types). */
interface WasmHeap {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/**
 * dW[i, j, c, m] = Σ_{b, oh, ow} x[b, oh·s + i·d − pad, ow·s + j·d − pad, c] · dy[b, oh, ow, c·mul + m].
 * Composed from wasm kernels this needs a strided slice, a broadcast multiply and a transposing sum per
 * tap (it took half of a training step); as one direct loop over the wasm heap it costs about as much as
 * the depthwise forward pass. Accumulates in float64.
 */
const depthwiseBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  checkFormat('DepthwiseConv2dNativeBackpropFilter', a);
  const info = depthwiseInfo(x.shape, a.filterShape, a);
  const [kh, kw, cin, mul] = a.filterShape;
  const [batch, h, w] = x.shape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const channels = cin * mul;
  const acc = new Float64Array(kh * kw * channels);
  const heap = backend as unknown as WasmHeap;
  const out = heap.makeOutput([kh, kw, cin, mul], 'float32');
  // Views only after the allocation above: growing the heap detaches earlier views.
  const xv = heap.typedArrayFromHeap(x);
  const dyv = heap.typedArrayFromHeap(dy);
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < oh; r++) {
      for (let q = 0; q < ow; q++) {
        const dyBase = ((b * oh + r) * ow + q) * channels;
        for (let i = 0; i < kh; i++) {
          const row = r * sh + i * dh - top;
          if (row < 0 || row >= h) continue;
          for (let j = 0; j < kw; j++) {
            const col = q * sw + j * dw - left;
            if (col < 0 || col >= w) continue;
            const xBase = ((b * h + row) * w + col) * cin;
            const wBase = (i * kw + j) * channels;
            if (mul === 1) {
              for (let c = 0; c < cin; c++) acc[wBase + c] += xv[xBase + c] * dyv[dyBase + c];
            } else {
              for (let c = 0; c < cin; c++) {
                const xval = xv[xBase + c];
                for (let m = 0; m < mul; m++) acc[wBase + c * mul + m] += xval * dyv[dyBase + c * mul + m];
              }
            }
          }
        }
      }
    }
  }
  heap.typedArrayFromHeap(out).set(acc);
  return out;
};

/**
 * dy dilated by the stride and zero-padded so that a stride-1 'valid' correlation with the spatially
 * flipped filter gives dx: the 'full' correlation that is the transpose of a strided convolution.
 */
function fullCorrelationInput(s: KernelScope, dy: TensorInfo, info: tf.backend_util.Conv2DInfo, h: number, w: number): TensorInfo {
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const [b, , , channels] = dy.shape;
  let dilated = dy;
  if (sh > 1 || sw > 1) {
    // Insert stride − 1 zeros after every row and column of dy.
    const spread = s.reshape(dy, [b, oh, 1, ow, 1, channels]);
    const padded = s.pad(spread, [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    dilated = s.reshape(padded, [b, oh * sh, ow * sw, channels]);
  }
  // Full correlation needs h + ekh − 1 rows: ekh − 1 − padTop of them before the first dy row.
  const fit = (t: TensorInfo, axis: 1 | 2, before: number, length: number): TensorInfo => {
    if (before < 0) throw new Error('convolution backprop on wasm: padding larger than the filter is not supported');
    const after = length - before - t.shape[axis];
    const pads: Array<[number, number]> = [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ];
    pads[axis] = [before, Math.max(0, after)];
    let out = s.pad(t, pads);
    if (after < 0) {
      const end = [...out.shape];
      end[axis] = length;
      out = s.stridedSlice(out, [0, 0, 0, 0], end, [1, 1, 1, 1]);
    }
    return out;
  };
  const full = fit(dilated, 1, info.effectiveFilterHeight - 1 - info.padInfo.top, h + info.effectiveFilterHeight - 1);
  return fit(full, 2, info.effectiveFilterWidth - 1 - info.padInfo.left, w + info.effectiveFilterWidth - 1);
}

/** dx of a depthwise convolution: a stride-1 depthwise convolution of the prepared dy, one channel at a time. */
const depthwiseBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  checkFormat('DepthwiseConv2dNativeBackpropInput', a);
  const info = depthwiseInfo(a.inputShape, filter.shape, a);
  const [kh, kw, cin, mul] = filter.shape;
  const [b, h, w] = a.inputShape;
  return withScope(backend as unknown as Backend, (s) => {
    const full = fullCorrelationInput(s, dy, info, h, w);
    const flipped = s.reshape(s.run('Reverse', { x: filter }, { dims: [0, 1] }), [kh, kw, cin * mul, 1]);
    const dx = s.run(
      'DepthwiseConv2dNative',
      { x: full, filter: flipped },
      {
        strides: [1, 1],
        pad: 'valid',
        dataFormat: 'NHWC',
        dilations: [info.dilationHeight, info.dilationWidth],
        dimRoundingMode: undefined as unknown as string,
      },
    );
    if (mul === 1) return dx;
    return s.run('Sum', { x: s.reshape(dx, [b, h, w, cin, mul]) }, { axis: [4], keepDims: false });
  });
};

/**
 * dx of a convolution: a stride-1 convolution of the prepared dy with the flipped filter, its in and out
 * channels swapped. Replaces wasm's own Conv2DBackpropInput, a plain loop 8× slower than its
 * XNNPACK forward convolution.
 */
const conv2DBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  checkFormat('Conv2DBackpropInput', a);
  const info = tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode);
  const [, h, w] = a.inputShape;
  return withScope(backend as unknown as Backend, (s) => {
    const full = fullCorrelationInput(s, dy, info, h, w);
    const flipped = s.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = s.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
    return s.run(
      'Conv2D',
      { x: full, filter: swapped },
      {
        strides: [1, 1],
        pad: 'valid',
        dataFormat: 'NHWC',
        dilations: [1, 1],
        dimRoundingMode: undefined as unknown as string,
      },
    );
  });
};

export const WASM_GRAD_KERNELS: KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2DBackpropInput },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm', kernelFunc: depthwiseBackpropFilter },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: 'wasm', kernelFunc: depthwiseBackpropInput },
];

/** Kernels replaced even where wasm has its own, because ours are faster (checked by the same tests). */
const REPLACES_NATIVE = new Set(['Conv2DBackpropInput']);

/** Registers the kernels once; a later tfjs that ships its own missing kernels keeps its own. */
export function registerWasmGradKernels(): string[] {
  const added: string[] = [];
  for (const k of WASM_GRAD_KERNELS) {
    const existing = tf.getKernel(k.kernelName, 'wasm');
    if (existing?.kernelFunc === k.kernelFunc) continue;
    if (existing && !REPLACES_NATIVE.has(k.kernelName)) continue;
    if (existing) tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel(k);
    added.push(k.kernelName);
  }
  return added;
}

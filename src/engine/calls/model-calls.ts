// The engine's model calls: the backend, loading a bundle, classifying (with the 8-view mean and the
// out-of-distribution check), and memory.
import * as tf from '@tensorflow/tfjs';
import type { ClassifyResult } from '../protocol.js';
import { resolveBackend } from '../tfjs/backend.js';
import { TfjsRuntime } from '../tfjs/tfjs-runtime.js';
import { dihedral } from '../train/augment.js';
import { oodOfImages, pooledRows } from '../ood/check.js';
import type { EngineState, Handlers } from './state.js';

/**
 * Probabilities of n packed images; with `tta`, the mean over the 8 symmetries of the square (a smear has
 * no up), as the held-out figures of `train` report them beside the single view. With `features`, and
 * when ONNX Runtime runs the model, each image's pooled features (of the image as is) from the same pass,
 * for the out-of-distribution check; null otherwise.
 */
export async function probabilitiesOf(
  e: EngineState,
  rt: TfjsRuntime,
  packed: Float32Array,
  n: number,
  classes: number,
  tta: boolean,
  features = false,
): Promise<{ probabilities: Float32Array; pooled: Float32Array[] | null }> {
  const bundle = rt.loaded!;
  const size = bundle.manifest.spec.inputSize;
  const run = async (x: Float32Array, m: number, withFeatures: boolean) => {
    if (!e.forward.active) return { probabilities: await rt.classify(x, m), pooled: null };
    const out = await e.forward.withFeatures(x, m, withFeatures);
    return { probabilities: out.probabilities, pooled: out.features ? pooledRows(bundle, out.features) : null };
  };
  if (!tta) return run(packed, n, features);
  // The images as they are in one run, with the features the out-of-distribution check reads; their 7
  // other views in another without: the feature maps of all 8 views cost a 16 MB copy for 8 images.
  const asIs = await run(packed, n, features);
  const stride = size * size * 3;
  // One image's 7 views a run, in one buffer used again: 8 images' 56 views at once were 25% slower a view.
  const views = new Float32Array(7 * stride);
  const turned = { probabilities: new Float32Array(n * 7 * classes) };
  for (let i = 0; i < n; i++) {
    const one = packed.subarray(i * stride, (i + 1) * stride);
    for (let t = 1; t < 8; t++) dihedral(one, views, (t - 1) * stride, size, t);
    turned.probabilities.set((await run(views, 7, false)).probabilities, i * 7 * classes);
  }
  const mean = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < classes; c++) {
      let sum = asIs.probabilities[i * classes + c];
      for (let t = 0; t < 7; t++) sum += turned.probabilities[(i * 7 + t) * classes + c];
      mean[i * classes + c] = sum / 8;
    }
  }
  return { probabilities: mean, pooled: asIs.pooled };
}

export function modelCalls(e: EngineState): Pick<Handlers, 'init' | 'load' | 'classify' | 'memory'> {
  return {
    async init({ backend: choice, threads, runtime: runtimeChoice, onnxProvider }) {
      e.backend = await resolveBackend(choice, threads);
      e.runtime ??= new TfjsRuntime(`tfjs-${e.backend.backend}`);
      e.forward.configure({ runtime: runtimeChoice ?? 'auto', provider: onnxProvider ?? 'auto', threads });
      return e.backend;
    },

    async load({ modelDir }) {
      const rt = e.requireRuntime();
      const info = await rt.load(modelDir);
      const name = await e.forward.attach(rt.loaded!);
      return { ...info, runtime: name ?? info.runtime };
    },

    async classify({ inputs, batch, tta }, ctx) {
      const rt = e.requireRuntime();
      const info = rt.loaded;
      if (!info) throw new Error('no model loaded');
      const classes = info.manifest.spec.classes.length;
      const probabilities: Float32Array[] = [];
      const ood: ClassifyResult['ood'] = [];
      let ms = 0;
      for (let start = 0; start < inputs.length; start += batch) {
        await ctx.checkpoint();
        const chunk = inputs.slice(start, start + batch);
        const packed = new Float32Array(chunk.reduce((n, a) => n + a.length, 0));
        let offset = 0;
        for (const a of chunk) {
          packed.set(a, offset);
          offset += a.length;
        }
        const t0 = performance.now();
        const out = await probabilitiesOf(e, rt, packed, chunk.length, classes, tta ?? false, info.ood !== null);
        ms += performance.now() - t0;
        for (let i = 0; i < chunk.length; i++) probabilities.push(out.probabilities.slice(i * classes, (i + 1) * classes));
        ood.push(...(await oodOfImages(info, chunk, out.pooled)));
        ctx.progress({ done: Math.min(start + batch, inputs.length), total: inputs.length });
      }
      return { probabilities, ms, ood };
    },

    async memory() {
      const m = tf.memory();
      const p = process.memoryUsage();
      // The wasm backend's linear memory only grows; its size shows whether a run leaks on the wasm side.
      const wasmHeap = (tf.getBackend() === 'wasm' ? (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.byteLength : undefined) ?? 0;
      return { tensors: m.numTensors, tensorBytes: m.numBytes, heapUsed: p.heapUsed, rss: p.rss, wasmHeap };
    },
  };
}

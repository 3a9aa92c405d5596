// The engine worker: owns TensorFlow.js, the loaded model and every forward pass, so the UI thread
// never blocks on inference. It answers the calls of protocol.ts; cancellation is checked between batches.
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { CancelledError, type CallName, type ClassifyResult, type CallPayload, type CallResult, type FromWorker, type Progress, type ToWorker } from './protocol.js';
import { resolveBackend, type BackendReport } from './tfjs/backend.js';
import { TfjsRuntime } from './tfjs/tfjs-runtime.js';
import { buildModel, defaultSpec } from './models/spec.js';
import { forwardFlops } from './models/flops.js';
import { isVariant } from './models/efficientnet.js';
import { train } from './train/trainer.js';
import { methodByName } from './explain/index.js';
import { explain } from './explain/types.js';
import { argmax } from '../core/probabilities.js';
import { evaluateExplanations } from './explain/evaluate.js';
import { ForwardRunner, gradientsOn } from './forward.js';
import { retrain } from './retrain/retrain.js';
import { dihedral } from './train/augment.js';
import { listVersions, setCurrent } from './versions.js';
import { evaluateVersion } from './retrain/evaluate-versions.js';
import { OrtModel } from './onnx/ort-runtime.js';
import { exportToOnnx } from './onnx/export.js';
import { benchOnnx } from './onnx/bench.js';
import { oodOfImages, pooledRows } from './ood/check.js';

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;

const send = (msg: FromWorker) => port.postMessage(msg);
const cancelled = new Set<number>();
let backend: BackendReport | null = null;
let runtime: TfjsRuntime | null = null;
const forward = new ForwardRunner((message) => send({ kind: 'log', level: 'warn', message }));

interface CallContext {
  id: number;
  progress(p: Progress): void;
  /** Lets pending messages (cancel) in, then throws if this call was cancelled. */
  checkpoint(): Promise<void>;
}

type Handlers = { [K in CallName]: (payload: CallPayload<K>, ctx: CallContext) => Promise<CallResult<K>> };

function requireRuntime(): TfjsRuntime {
  if (!runtime) throw new Error('the engine has no backend yet: call init first');
  return runtime;
}

/**
 * Probabilities of n packed images; with `tta`, the mean over the 8 symmetries of the square (a smear has
 * no up), as the held-out figures of `train` report them beside the single view. With `features`, and
 * when ONNX Runtime runs the model, each image's pooled features (of the image as is) from the same pass,
 * for the out-of-distribution check; null otherwise.
 */
async function probabilitiesOf(
  rt: TfjsRuntime,
  packed: Float32Array,
  n: number,
  classes: number,
  tta: boolean,
  features = false,
): Promise<{ probabilities: Float32Array; pooled: Float32Array[] | null }> {
  const bundle = rt.loaded!;
  const size = bundle.manifest.spec.inputSize;
  const run = async (x: Float32Array, m: number) => {
    if (!forward.active) return { probabilities: await rt.classify(x, m), pooled: null };
    const out = await forward.withFeatures(x, m, features);
    return { probabilities: out.probabilities, pooled: out.features ? pooledRows(bundle, out.features) : null };
  };
  if (!tta) return run(packed, n);
  const stride = size * size * 3;
  const views = new Float32Array(n * 8 * stride);
  for (let i = 0; i < n; i++) {
    const one = packed.subarray(i * stride, (i + 1) * stride);
    for (let t = 0; t < 8; t++) dihedral(one, views, (i * 8 + t) * stride, size, t);
  }
  const out = await run(views, n * 8);
  const mean = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) for (let t = 0; t < 8; t++) for (let c = 0; c < classes; c++) mean[i * classes + c] += out.probabilities[(i * 8 + t) * classes + c] / 8;
  // View 0 of each image is the image as is.
  return { probabilities: mean, pooled: out.pooled ? Array.from({ length: n }, (_, i) => out.pooled![i * 8]) : null };
}

const handlers: Handlers = {
  async init({ backend: choice, threads, runtime: runtimeChoice, onnxProvider }) {
    backend = await resolveBackend(choice, threads);
    runtime ??= new TfjsRuntime(`tfjs-${backend.backend}`);
    forward.configure({ runtime: runtimeChoice ?? 'auto', provider: onnxProvider ?? 'auto', threads });
    return backend;
  },

  async load({ modelDir }) {
    const rt = requireRuntime();
    const info = await rt.load(modelDir);
    const name = await forward.attach(rt.loaded!);
    return { ...info, runtime: name ?? info.runtime };
  },

  async classify({ inputs, batch, tta }, ctx) {
    const rt = requireRuntime();
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
      const out = await probabilitiesOf(rt, packed, chunk.length, classes, tta ?? false, info.ood !== null);
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

  async explain({ image, methods, target, options, tta }, ctx) {
    const rt = requireRuntime();
    const loaded = rt.loaded;
    if (!loaded) throw new Error('no model loaded');
    const { model, manifest } = loaded;
    const size = manifest.spec.inputSize;
    const { probabilities, pooled } = await probabilitiesOf(rt, image, 1, manifest.spec.classes.length, tta ?? false, loaded.ood !== null);
    const cls = target ?? argmax(probabilities);
    const fast = await forward.explainHelpers(image, methods.includes('ig'));
    const heatmaps = [];
    for (const [i, name] of methods.entries()) {
      await ctx.checkpoint();
      const method = methodByName(name);
      heatmaps.push(
        await explain(method, { model, classes: manifest.spec.classes, image, size, target: cls, ...fast }, options?.[name] ?? {}, {
          progress: (done, total) => ctx.progress({ done: i + done / total, total: methods.length, message: name }),
          checkpoint: ctx.checkpoint,
        }),
      );
      ctx.progress({ done: i + 1, total: methods.length, message: name });
    }
    return { probabilities, target: cls, heatmaps, ood: (await oodOfImages(loaded, [image], pooled))[0] };
  },

  async xaiEval(request, ctx) {
    const loaded = requireRuntime().loaded;
    if (!loaded) throw new Error('no model loaded');
    return evaluateExplanations(
      loaded,
      request,
      {
        progress: (done, total, message) => ctx.progress({ done, total, message }),
        checkpoint: ctx.checkpoint,
      },
      (image) => forward.explainHelpers(image, request.methods.includes('ig')),
    );
  },

  async evaluateVersion(request, ctx) {
    if (!backend) throw new Error('call init first');
    return evaluateVersion(request, { checkpoint: ctx.checkpoint, ort: (bundle) => forward.ortFor(bundle) });
  },

  async versions({ versionsDir, defaultDir, shipped }) {
    return listVersions(versionsDir, defaultDir, shipped);
  },

  async setCurrent({ versionsDir, target, action, by }) {
    return setCurrent(versionsDir, target, action, by);
  },

  async retrain(request, ctx) {
    if (!backend) throw new Error('call init first');
    return retrain(request, {
      progress: (done, total, message) => ctx.progress({ done, total, message }),
      checkpoint: ctx.checkpoint,
      ort: (bundle) => forward.ortFor(bundle),
    });
  },

  async train(options, ctx) {
    if (!backend) throw new Error('call init first');
    return train(options, {
      progress: (p) => ctx.progress({ done: p.step, total: p.steps, message: p.message, data: p }),
      checkpoint: ctx.checkpoint,
      ortSettings: forward.sessionSettings(),
    });
  },

  async benchIg({ variant, size, steps, runtime: which }) {
    if (!backend) throw new Error('call init first');
    if (!isVariant(variant)) throw new Error(`unknown variant ${variant}`);
    const classes = ['a', 'b', 'c', 'd'];
    const model = buildModel(defaultSpec(variant, classes, { inputSize: size }), 1);
    let ortModel: OrtModel | null = null;
    try {
      const image = new Float32Array(size * size * 3).map((_, i) => (Math.sin(i * 0.01) + 1) / 2);
      const run = async () => {
        const t0 = performance.now();
        if (which === 'onnx' && !ortModel) ortModel = await OrtModel.create(exportToOnnx(model, { gradient: true }).bytes, size, forward.sessionSettings());
        const h = await explain(methodByName('ig'), { model, classes, image, size, target: 1, inputGradients: ortModel ? gradientsOn(ortModel, classes.length) : undefined }, { steps });
        return { ms: performance.now() - t0, gap: h.diagnostics.completenessGap };
      };
      const first = await run();
      const next = await run();
      return { firstMs: first.ms, nextMs: next.ms, completenessGap: next.gap };
    } finally {
      model.dispose();
      await (ortModel as OrtModel | null)?.dispose();
    }
  },

  async benchForward({ variant, size, batch, runs, runtime: which = 'tfjs' }, ctx) {
    if (!backend) throw new Error('call init first');
    if (!isVariant(variant)) throw new Error(`unknown variant ${variant}`);
    const model = buildModel(defaultSpec(variant, ['a', 'b', 'c', 'd'], { inputSize: size }), 1);
    const flops = forwardFlops(model);
    const parameters = model.countParams();
    const input = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 7);
    try {
      let once: () => Promise<number>;
      let exportMs: number | undefined;
      let release = async () => {};
      if (which === 'tfjs') {
        once = async () => {
          const t0 = performance.now();
          const out = model.predict(input) as tf.Tensor;
          await out.data();
          out.dispose();
          return performance.now() - t0;
        };
      } else {
        const t0 = performance.now();
        const { bytes } = exportToOnnx(model);
        exportMs = performance.now() - t0;
        const data = (await input.data()) as Float32Array;
        model.dispose();
        const bench = await benchOnnx(bytes, data, batch, size, which === 'onnx-bare', forward.sessionSettings());
        once = bench.once;
        release = bench.release;
      }
      await once(); // warm-up: kernels compiled, buffers allocated
      const msPerRun: number[] = [];
      for (let i = 0; i < runs; i++) {
        await ctx.checkpoint();
        msPerRun.push(await once());
        ctx.progress({ done: i + 1, total: runs });
      }
      await release();
      return { msPerRun, flops, parameters, exportMs };
    } finally {
      input.dispose();
      if (which === 'tfjs') model.dispose();
    }
  },
};

async function handle(msg: Extract<ToWorker, { kind: 'call' }>): Promise<void> {
  const ctx: CallContext = {
    id: msg.id,
    progress: (progress) => send({ kind: 'progress', id: msg.id, progress }),
    checkpoint: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      if (cancelled.has(msg.id)) throw new CancelledError();
    },
  };
  try {
    const handler = handlers[msg.name] as (p: unknown, c: CallContext) => Promise<unknown>;
    if (!handler) throw new Error(`unknown engine call "${msg.name}"`);
    const result = await handler(msg.payload, ctx);
    send({ kind: 'result', id: msg.id, result });
  } catch (err) {
    const e = err as Error;
    send({ kind: 'error', id: msg.id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err) } });
    // A wasm abort (out of memory: its heap never shrinks) leaves the backend unusable for every later
    // call. End the thread; the client starts a fresh one with the same backend and model.
    if (/^Aborted\(/.test(e?.message ?? '')) setImmediate(() => process.exit(1));
  } finally {
    cancelled.delete(msg.id);
  }
}

// Calls run one at a time, in order: the model and the backend are shared state.
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  if (msg.kind === 'cancel') {
    cancelled.add(msg.id);
    return;
  }
  if (msg.kind === 'shutdown') {
    // ONNX Runtime's sessions are released here, in order: a thread terminated with them live can
    // take the process down while the native addon's finalisers run.
    queue = queue.then(async () => {
      await forward.dispose().catch(() => undefined);
      runtime?.dispose();
      process.exit(0); // in a worker thread this ends the thread only
    });
    return;
  }
  queue = queue.then(() => handle(msg));
});

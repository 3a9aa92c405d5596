// The engine's timing calls (bench:engine): Integrated Gradients and forward passes on untrained networks.
import * as tf from '@tensorflow/tfjs';
import { buildModel, defaultSpec } from '../models/spec.js';
import { forwardFlops } from '../models/flops.js';
import { isVariant, type Variant } from '../models/efficientnet.js';
import { methodByName } from '../explain/index.js';
import { explain } from '../explain/types.js';
import { gradientsOn } from '../forward.js';
import { OrtModel } from '../onnx/ort-runtime.js';
import { exportToOnnx } from '../onnx/export.js';
import { benchOnnx } from '../onnx/bench.js';
import type { EngineState, Handlers } from './state.js';

export function benchCalls(e: EngineState): Pick<Handlers, 'benchIg' | 'benchForward'> {
  return {
    async benchIg({ variant, size, steps, runtime: which }) {
      if (!e.backend) throw new Error('call init first');
      if (!isVariant(variant)) throw new Error(`unknown variant ${variant}`);
      const classes = ['a', 'b', 'c', 'd'];
      const model = buildModel(defaultSpec(variant, classes, { inputSize: size }), 1);
      let ortModel: OrtModel | null = null;
      try {
        const image = new Float32Array(size * size * 3).map((_, i) => (Math.sin(i * 0.01) + 1) / 2);
        const run = async () => {
          const t0 = performance.now();
          if (which === 'onnx' && !ortModel) ortModel = await OrtModel.create(exportToOnnx(model, { gradient: true }).bytes, size, e.forward.sessionSettings());
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

    async benchForward({ variant, size: asked, batch, runs, runtime: which = 'tfjs' }, ctx) {
      if (!e.backend) throw new Error('call init first');
      const loaded = variant === 'loaded' ? e.requireRuntime().loaded : null;
      if (variant === 'loaded' && (!loaded || which === 'tfjs')) throw new Error('variant loaded: load a model first, and time it on ONNX Runtime');
      if (!loaded && !isVariant(variant)) throw new Error(`unknown variant ${variant}`);
      const size = loaded?.manifest.spec.inputSize ?? asked;
      // The loaded bundle's model is exported, never disposed here; an untrained one is built to be timed.
      const model = loaded?.model ?? buildModel(defaultSpec(variant as Variant, ['a', 'b', 'c', 'd'], { inputSize: size }), 1);
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
          if (!loaded) model.dispose();
          const bench = await benchOnnx(bytes, data, batch, size, which === 'onnx-bare', e.forward.sessionSettings());
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
        if (which === 'tfjs' && !loaded) model.dispose();
      }
    },
  };
}

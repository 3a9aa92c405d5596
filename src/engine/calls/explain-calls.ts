// The engine's explanation calls: the maps of one image, and the quality table over a data set.
import { argmax } from '../../core/probabilities.js';
import { methodByName, usesGradientGraph } from '../explain/index.js';
import { explain } from '../explain/types.js';
import { evaluateExplanations } from '../explain/evaluate.js';
import { oodOfImages } from '../ood/check.js';
import { probabilitiesOf } from './model-calls.js';
import type { EngineState, Handlers } from './state.js';

export function explainCalls(e: EngineState): Pick<Handlers, 'explain' | 'xaiEval'> {
  return {
    async explain({ image, methods, target, options, tta }, ctx) {
      const rt = e.requireRuntime();
      const loaded = rt.loaded;
      if (!loaded) throw new Error('no model loaded');
      const { model, manifest } = loaded;
      const size = manifest.spec.inputSize;
      const { probabilities, pooled } = await probabilitiesOf(e, rt, image, 1, manifest.spec.classes.length, tta ?? false, loaded.ood !== null);
      const cls = target ?? argmax(probabilities);
      const fast = await e.forward.explainHelpers(image, methods.some(usesGradientGraph));
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
      const loaded = e.requireRuntime().loaded;
      if (!loaded) throw new Error('no model loaded');
      return evaluateExplanations(
        loaded,
        request,
        {
          progress: (done, total, message) => ctx.progress({ done, total, message }),
          checkpoint: ctx.checkpoint,
        },
        (image) => e.forward.explainHelpers(image, request.methods.some(usesGradientGraph)),
      );
    },
  };
}

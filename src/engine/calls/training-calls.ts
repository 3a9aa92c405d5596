// The engine's training calls: train a bundle, retrain from labels, score versions, list and switch them.
import { train } from '../train/trainer.js';
import { retrain } from '../retrain/retrain.js';
import { adapt } from '../adapt/adapt.js';
import { evaluateVersion } from '../retrain/evaluate-versions.js';
import { listVersions, setCurrent } from '../versions.js';
import type { EngineState, Handlers } from './state.js';

export function trainingCalls(e: EngineState): Pick<Handlers, 'evaluateVersion' | 'versions' | 'setCurrent' | 'retrain' | 'adapt' | 'train'> {
  return {
    async evaluateVersion(request, ctx) {
      if (!e.backend) throw new Error('call init first');
      return evaluateVersion(request, { checkpoint: ctx.checkpoint, ort: (bundle) => e.forward.ortFor(bundle) });
    },

    async versions({ versionsDir, defaultDir, shipped }) {
      return listVersions(versionsDir, defaultDir, shipped);
    },

    async setCurrent({ versionsDir, target, action, by }) {
      return setCurrent(versionsDir, target, action, by);
    },

    async retrain(request, ctx) {
      if (!e.backend) throw new Error('call init first');
      return retrain(request, {
        progress: (done, total, message) => ctx.progress({ done, total, message }),
        checkpoint: ctx.checkpoint,
        ort: (bundle) => e.forward.ortFor(bundle),
      });
    },

    async adapt(request, ctx) {
      if (!e.backend) throw new Error('call init first');
      return adapt(request, {
        progress: (done, total, message) => ctx.progress({ done, total, message }),
        checkpoint: ctx.checkpoint,
        ort: (bundle) => e.forward.ortFor(bundle),
      });
    },

    async train(options, ctx) {
      if (!e.backend) throw new Error('call init first');
      return train(options, {
        progress: (p) => ctx.progress({ done: p.step, total: p.steps, message: p.message, data: p }),
        checkpoint: ctx.checkpoint,
        ortSettings: e.forward.sessionSettings(),
      });
    },
  };
}

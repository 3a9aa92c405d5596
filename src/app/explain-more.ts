// `x` on a slide: the methods of explain.methods that the slide does not show yet (LIME and Integrated
// Gradients by default) in the engine worker, with a progress bar that Esc cancels; the overlays are
// written beside the store and the figures said on the screen.
import { useCallback, useRef, useState } from 'react';
import type { CallHandle } from '../engine/client.js';
import type { ExplainResult } from '../engine/protocol.js';
import { useEngine } from '../contexts/EngineContext.js';
import { useStore } from '../contexts/StoreContext.js';
import type { SlideRow } from '../queue/rows.js';
import type { ExplainJob } from '../screens/SlideScreen.js';
import { describeCompleteness } from '../services/completeness.js';
import type { TriageAction } from '../state/triage.js';
import type { Prediction } from '../store/schema.js';
import type { Config } from '../config.js';
import { loadSlide } from './predictor.js';
import { writeOverlays } from './explanation-files.js';
import { methodTitle } from '../core/explanation-methods.js';

/** Integrated Gradients, short: pixel-level, and on the 14 × 14 map (integrated from a black image's activations). */
const IG_LABELS: Record<string, string> = { ig: 'IG', ig14: 'IG 14²' };

export interface ExplainMoreContext {
  config: Config;
  row: SlideRow | undefined;
  prediction: Prediction | null;
  dispatch(action: TriageAction): void;
}

/** The running explanation (for the progress bar), the call that starts one, and the one that cancels it. */
export function useExplainMore({ config, row, prediction, dispatch }: ExplainMoreContext) {
  const engine = useEngine();
  const { store, refresh } = useStore();
  const [job, setJob] = useState<ExplainJob | null>(null);
  const jobHandle = useRef<CallHandle<ExplainResult> | null>(null);
  const cancelJob = useCallback(() => {
    jobHandle.current?.cancel();
    jobHandle.current = null;
    setJob(null);
  }, []);
  const missing = config.explain.methods.filter((m) => !prediction?.explanations[m]);
  const explainMore = useCallback(async () => {
    if (!row || !engine.client || !engine.model || job || !missing.length) return;
    const model = engine.model;
    const sha = row.sha256;
    try {
      const { input, shown } = await loadSlide(config, row, model);
      const options = { lime: { ...config.explain.lime }, ig: { ...config.explain.ig } };
      const handle = engine.client.start('explain', { image: input, methods: missing, target: prediction ? model.classes.indexOf(prediction.label) : undefined, options }, (p) =>
        setJob({ sha256: sha, done: p.done, total: p.total, method: p.message ?? '' }),
      );
      jobHandle.current = handle;
      setJob({ sha256: sha, done: 0, total: missing.length, method: missing[0] });
      const result = await handle.result;
      const files = await writeOverlays(config, sha, model, shown, result.heatmaps);
      await store.addExplanations(sha, model.id, files);
      await refresh();
      const times = result.heatmaps.map((h) => `${IG_LABELS[h.method] ?? methodTitle(h.method)} ${Math.round(h.ms)} ms`).join(', ');
      const ig = result.heatmaps.find((h) => h.method in IG_LABELS);
      const baseline = ig?.method === 'ig' ? config.explain.ig.baseline : 'black';
      dispatch({ type: 'message', text: `${times}${ig ? `; ${describeCompleteness(ig.diagnostics, baseline)}` : ''}` });
    } catch (err) {
      dispatch({ type: 'message', text: (err as Error).name === 'CancelledError' ? 'explanation cancelled' : `explanation failed: ${(err as Error).message}` });
    } finally {
      jobHandle.current = null;
      setJob(null);
    }
  }, [row, engine, job, config, prediction, store, refresh, dispatch, missing]);
  return { job, explainMore, cancelJob, nothingToAdd: !missing.length };
}

// The Retrain screen's work: start a retraining in the engine worker, follow it, list the versions,
// and promote or roll back after an explicit yes. The view lives in screens/RetrainScreen.tsx.
import { useCallback, useEffect, useRef } from 'react';
import type { Config } from '../config.js';
import type { CallHandle } from '../engine/client.js';
import type { RetrainResult } from '../engine/retrain/types.js';
import { useEngine } from '../contexts/EngineContext.js';
import { useStore } from '../contexts/StoreContext.js';
import { buildRetrainRequest } from '../services/retrain-request.js';
import { buildAdaptRequest } from '../services/adapt-request.js';
import { ADAPT_MAX_SLIDES, ADAPT_MIN_SLIDES } from '../services/adapt-limits.js';
import type { AdaptResult } from '../engine/adapt/types.js';
import { useRetrainState } from '../state/retrain.js';

export function useRetrain(config: Config, defaultModel: string, technician: string) {
  const engine = useEngine();
  const { store } = useStore();
  const [state, dispatch] = useRetrainState();
  const handle = useRef<CallHandle<RetrainResult> | CallHandle<AdaptResult> | null>(null);

  const client = engine.client;
  const refreshVersions = useCallback(async () => {
    if (!client) return;
    dispatch({ type: 'versions', versions: await client.call('versions', { versionsDir: config.versions, defaultDir: defaultModel, shipped: config.shippedModels }) });
  }, [client, config.versions, config.shippedModels, defaultModel, dispatch]);

  useEffect(() => {
    void refreshVersions().catch((err: Error) => dispatch({ type: 'stopped', message: err.message }));
  }, [refreshVersions, engine.model, dispatch]);

  const start = useCallback(async () => {
    if (handle.current || !engine.client || !engine.model) return;
    try {
      const req = await buildRetrainRequest(config, store, engine.model.dir, engine.model.classes, {
        mode: state.mode,
        baseDataDir: null,
        classes: null,
        epochs: null,
        heldOutFraction: 0.25,
        seed: 42,
      });
      dispatch({ type: 'started' });
      const h = engine.client.start('retrain', req, (p) => {
        const loss = /^epoch \d+\/\d+: loss ([0-9.]+)/.exec(p.message ?? '')?.[1];
        dispatch({ type: 'progress', done: p.done, total: p.total, message: p.message ?? '', loss: loss === undefined ? undefined : Number(loss) });
      });
      handle.current = h;
      const result = await h.result;
      await refreshVersions();
      dispatch({ type: 'finished', result });
    } catch (err) {
      const e = err as Error;
      dispatch({ type: 'stopped', message: e.name === 'CancelledError' ? 'retraining cancelled; nothing changed' : `retraining failed: ${e.message}` });
    } finally {
      handle.current = null;
    }
  }, [engine, config, store, state.mode, dispatch, refreshVersions]);

  // adapt: the store's slides, no labels; the same job line, Esc and promotion as a retrain.
  const adapt = useCallback(async () => {
    if (handle.current || !engine.client || !engine.model) return;
    try {
      const req = await buildAdaptRequest(config, store, engine.model.dir, { files: null, minSlides: ADAPT_MIN_SLIDES, maxSlides: ADAPT_MAX_SLIDES, colour: true });
      dispatch({ type: 'started' });
      const h = engine.client.start('adapt', req, (p) => dispatch({ type: 'progress', done: p.done, total: p.total, message: p.message ?? '' }));
      handle.current = h;
      const result = await h.result;
      await refreshVersions();
      dispatch({ type: 'adapted', result });
    } catch (err) {
      const e = err as Error;
      dispatch({ type: 'stopped', message: e.name === 'CancelledError' ? 'adapting cancelled; nothing changed' : `adapting failed: ${e.message}` });
    } finally {
      handle.current = null;
    }
  }, [engine, config, store, dispatch, refreshVersions]);

  const cancel = useCallback(() => {
    if (handle.current) handle.current.cancel();
    else if (state.confirm) dispatch({ type: 'answered', message: 'not changed' });
  }, [state.confirm, dispatch]);

  const ask = useCallback(() => {
    const v = state.versions[state.selected];
    if (!v) return;
    if (v.current) return dispatch({ type: 'answered', message: `${v.id} is already the current model` });
    dispatch({ type: 'ask', version: v });
  }, [state.versions, state.selected, dispatch]);

  const promote = useCallback(async () => {
    const v = state.confirm;
    if (!v) return;
    try {
      const current = state.versions.find((x) => x.current);
      const action = current && v.created < current.created ? 'rollback' : 'promote';
      if (!engine.client) throw new Error('the engine is not running');
      await engine.client.call('setCurrent', { versionsDir: config.versions, target: v, action, by: technician });
      await engine.reload(v.dir);
      await refreshVersions();
      dispatch({ type: 'answered', message: `${action === 'promote' ? 'promoted' : 'rolled back to'} ${v.id}; the unconfirmed slides are being re-scored` });
    } catch (err) {
      dispatch({ type: 'answered', message: `could not switch models: ${(err as Error).message}` });
    }
  }, [state.confirm, state.versions, config.versions, technician, engine, refreshVersions, dispatch]);

  return { state, dispatch, start, adapt, cancel, ask, promote, running: () => handle.current !== null };
}

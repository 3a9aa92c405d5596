// Screens reach the engine through this context only, never by starting workers themselves.
import React, { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { Config } from '../config.js';
import { EngineClient } from '../engine/client.js';
import type { ModelInfo } from '../engine/protocol.js';
import type { BackendReport } from '../engine/tfjs/backend.js';

export interface EngineState {
  client: EngineClient | null;
  backend: BackendReport | null;
  model: ModelInfo | null;
  status: 'starting' | 'ready' | 'no-model' | 'failed';
  error: string | null;
  /** The engine's latest warning with its time (a runtime it could not use, a restart after its worker died, and then its recovery). */
  warning: string | null;
  /** Loads another bundle (a promoted or rolled-back version); the predictor then re-scores. */
  reload(modelDir: string): Promise<ModelInfo>;
}

const EngineContext = createContext<EngineState | null>(null);

export function EngineProvider({ config, client, children }: { config: Config; client: EngineClient; children: React.ReactNode }) {
  const [state, setState] = useState<Omit<EngineState, 'reload'>>({ client, backend: null, model: null, status: 'starting', error: null, warning: null });
  useEffect(
    () =>
      client.onLog((level, message) => {
        // Timed, so that a technician can tell an old warning from a new one; a recovery is added to it.
        const at = new Date().toTimeString().slice(0, 5);
        if (level === 'warn') setState((s) => ({ ...s, warning: `${at} ${message}` }));
        else if (level === 'recovered') setState((s) => (s.warning ? { ...s, warning: `${s.warning} — ${at} running again` } : s));
      }),
    [client],
  );
  const reload = useCallback(
    async (modelDir: string) => {
      const model = await client.call('load', { modelDir });
      setState((s) => ({ ...s, model, status: 'ready', error: null }));
      return model;
    },
    [client],
  );
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const backend = await client.call('init', { backend: config.backend, threads: config.threads, runtime: config.runtime, onnxProvider: config.onnxProvider });
        if (live) setState((s) => ({ ...s, backend }));
        try {
          const model = await client.call('load', { modelDir: config.model });
          if (live) setState((s) => ({ ...s, model, status: 'ready' }));
        } catch (err) {
          if (live) setState((s) => ({ ...s, status: 'no-model', error: (err as Error).message }));
        }
      } catch (err) {
        if (live) setState((s) => ({ ...s, status: 'failed', error: (err as Error).message }));
      }
    })();
    return () => {
      live = false;
    };
  }, [client, config]);
  const value = useMemo(() => ({ ...state, reload }), [state, reload]);
  return <EngineContext.Provider value={value}>{children}</EngineContext.Provider>;
}

export function useEngine(): EngineState {
  const state = useContext(EngineContext);
  if (!state) throw new Error('useEngine outside EngineProvider');
  return state;
}

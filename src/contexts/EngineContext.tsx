// Screens reach the engine through this context only, never by starting workers themselves.
import React, { createContext, useContext, useEffect, useState } from 'react';
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
}

const EngineContext = createContext<EngineState | null>(null);

export function EngineProvider({ config, client, children }: { config: Config; client: EngineClient; children: React.ReactNode }) {
  const [state, setState] = useState<EngineState>({ client, backend: null, model: null, status: 'starting', error: null });
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
  return <EngineContext.Provider value={state}>{children}</EngineContext.Provider>;
}

export function useEngine(): EngineState {
  const state = useContext(EngineContext);
  if (!state) throw new Error('useEngine outside EngineProvider');
  return state;
}

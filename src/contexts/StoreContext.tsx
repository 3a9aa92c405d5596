// The label store, the incoming-folder watcher and the background predictor, behind one context.
// Screens read a snapshot of the store; every change goes through the store's own methods.
import React, { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import fs from 'node:fs/promises';
import type { Config } from '../config.js';
import { IncomingWatcher } from '../ingest/watcher.js';
import { emptyView, type StoreView } from '../store/schema.js';
import { keepSlideCopy, slideCopiesDir } from '../store/slide-copies.js';
import type { SlideStore } from '../store/store.js';
import { summarise, type StoreSummary } from '../store/summary.js';
import { Predictor } from '../app/predictor.js';
import { useEngine } from './EngineContext.js';

export interface StoreState {
  store: SlideStore;
  data: StoreView;
  summary: StoreSummary;
  watcher: string;
  predicting: boolean;
  warnings: string[];
  refresh(): Promise<void>;
}

const StoreContext = createContext<StoreState | null>(null);

/** How often to look for writes by other instances (another technician on the same store). */
const POLL_MS = 2000;
/** How often the watcher walks the folder for what no event announced (links that go nowhere, removals on network folders). */
const RESCAN_MS = 60_000;

export function StoreProvider({ config, store, children, watch = true, pollMs = POLL_MS }: { config: Config; store: SlideStore; children: React.ReactNode; watch?: boolean; pollMs?: number }) {
  const engine = useEngine();
  const [data, setData] = useState<StoreView>(emptyView());
  const [watcherState, setWatcherState] = useState('starting');
  const [predicting, setPredicting] = useState(false);
  const [warnings, setWarnings] = useState<string[]>([]);
  const lastMtime = useRef('');
  const predictor = useRef<Predictor | null>(null);

  const warn = useCallback((m: string) => setWarnings((w) => [...w.slice(-4), m]), []);
  const refresh = useCallback(async () => {
    try {
      setData(await store.read()); // a fresh object each read: nothing else holds it
    } catch (err) {
      warn((err as Error).message);
    }
  }, [store, warn]);

  useEffect(() => {
    // refresh() sets state only after reading the file, never synchronously.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void refresh();
    const timer = setInterval(async () => {
      // The store, or who has which slide open (leases/ beside it).
      const times = await Promise.all(
        [config.store, store.leases.dir].map((f) =>
          fs.stat(f).then(
            (st) => st.mtimeMs,
            () => 0,
          ),
        ),
      );
      const stamp = times.join(':');
      if (stamp !== lastMtime.current) {
        lastMtime.current = stamp;
        await refresh();
        void predictor.current?.kick();
      }
    }, pollMs);
    return () => clearInterval(timer);
  }, [config.store, store, refresh, pollMs]);

  useEffect(() => {
    if (!watch) return;
    let watcher: IncomingWatcher | null = null;
    let live = true;
    (async () => {
      await fs.mkdir(config.incoming, { recursive: true });
      if (!live) return;
      const copies = slideCopiesDir(config.store);
      watcher = new IncomingWatcher(config.incoming, store, config.images, { rescanMs: RESCAN_MS, keep: (sha, bytes) => keepSlideCopy(copies, sha, bytes) });
      watcher.on('warning', warn);
      watcher.on('recorded', () => {
        void refresh();
        void predictor.current?.kick();
      });
      watcher.on('ready', () => setWatcherState('watching'));
      watcher.start();
      setWatcherState('scanning');
    })().catch((err: Error) => {
      setWatcherState('failed');
      warn(`cannot watch ${config.incoming}: ${err.message}`);
    });
    return () => {
      live = false;
      void watcher?.stop();
    };
  }, [config, store, watch, refresh, warn]);

  useEffect(() => {
    if (!engine.client || !engine.model) return;
    const p = new Predictor(config, engine.client, store, engine.model);
    predictor.current = p;
    p.on('predicted', () => {
      setPredicting(true);
      void refresh();
    });
    p.on('error', (sha, message) => warn(`slide ${sha.slice(0, 12)}: ${message}`));
    p.on('idle', () => setPredicting(false));
    void p.kick();
    return () => {
      p.stop();
      predictor.current = null;
    };
  }, [config, engine.client, engine.model, store, refresh, warn]);

  const value: StoreState = { store, data, summary: summarise(data), watcher: watcherState, predicting, warnings, refresh };
  return <StoreContext.Provider value={value}>{children}</StoreContext.Provider>;
}

export function useStore(): StoreState {
  const state = useContext(StoreContext);
  if (!state) throw new Error('useStore outside StoreProvider');
  return state;
}

// The label store, the incoming-folder watcher and the background predictor, behind one context.
// Screens never hold the whole store: they hold the counts, the live leases and a version number that
// moves when anything changed (in this process, or in another: PRAGMA data_version, polled), and query
// the pages they show (app/selection.ts).
import React, { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import fs from 'node:fs/promises';
import type { Config } from '../config.js';
import { storeFolder } from '../config.js';
import { IncomingWatcher } from '../ingest/watcher.js';
import { bareRecord, type FileEntry, type Lease } from '../store/schema.js';
import { keepSlideCopy, slideCopiesDir } from '../store/slide-copies.js';
import type { SlideStore } from '../store/types.js';
import { emptySummary, type StoreSummary } from '../store/summary.js';
import { Predictor } from '../app/predictor.js';
import { useEngine } from './EngineContext.js';
import { recentFlags, withSlide, type RecentFlags } from '../state/lab-drift.js';

export interface StoreState {
  store: SlideStore;
  summary: StoreSummary;
  leases: Record<string, Lease>;
  /** Moves on each refresh: what a screen queried before it is out of date. */
  version: number;
  watcher: string;
  predicting: boolean;
  /** Of the last new slides classified here, how many were flagged unlike the training images (lab-drift.ts). */
  newSlides: RecentFlags;
  warnings: string[];
  warn(message: string): void;
  /** Reads the counts and leases again, and has every registered view (the queue's page) reload; resolves when all have. */
  refresh(): Promise<void>;
  /** Registers a view's reload with refresh(); returns the unregistration. */
  onRefresh(reload: () => Promise<void>): () => void;
}

const StoreContext = createContext<StoreState | null>(null);

/** How often to look for writes by other instances (another technician on the same store). */
const POLL_MS = 1000;
/** How often the watcher walks the folder for what no event announced (links that go nowhere, removals on network folders). */
const RESCAN_MS = 60_000;

function useStoreSnapshot(store: SlideStore, pollMs: number, warn: (m: string) => void, onChange: () => void) {
  const [snapshot, setSnapshot] = useState({ summary: emptySummary(), leases: bareRecord<Lease>(), version: 0 });
  const reloads = useRef(new Set<() => Promise<void>>());
  const onRefresh = useCallback((reload: () => Promise<void>) => {
    reloads.current.add(reload);
    return () => void reloads.current.delete(reload);
  }, []);
  const refresh = useCallback(async () => {
    try {
      const [summary, leases] = await Promise.all([store.summary(), store.liveLeases(), ...[...reloads.current].map((reload) => reload())]);
      setSnapshot((s) => ({ summary, leases, version: s.version + 1 }));
    } catch (err) {
      warn((err as Error).message);
    }
  }, [store, warn]);
  const stamp = useRef('');
  const changed = useRef(onChange);
  useEffect(() => {
    changed.current = onChange;
  });
  useEffect(() => {
    void refresh();
    const timer = setInterval(async () => {
      // A change by anyone (a lease taken or let go included), or a lease that has run out meanwhile.
      const now = await store.changeStamp().catch(() => stamp.current);
      if (now === stamp.current) return;
      stamp.current = now;
      await refresh();
      changed.current();
    }, pollMs);
    return () => clearInterval(timer);
  }, [store, refresh, pollMs]);
  return { ...snapshot, refresh, onRefresh };
}

function useWatcher(config: Config, store: SlideStore, watch: boolean, warn: (m: string) => void, onRecorded: (entries: FileEntry[]) => void) {
  const [watcherState, setWatcherState] = useState('starting');
  useEffect(() => {
    if (!watch) return;
    let watcher: IncomingWatcher | null = null;
    let live = true;
    (async () => {
      await fs.mkdir(config.incoming, { recursive: true });
      if (!live) return;
      const copies = slideCopiesDir(storeFolder(config));
      watcher = new IncomingWatcher(config.incoming, store, config.images, { rescanMs: RESCAN_MS, keep: (sha, bytes) => keepSlideCopy(copies, sha, bytes) });
      watcher.on('warning', warn);
      watcher.on('recorded', onRecorded);
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
  }, [config, store, watch, warn, onRecorded]);
  return watcherState;
}

export interface StoreProviderProps {
  config: Config;
  store: SlideStore;
  children: React.ReactNode;
  /** Watch the incoming folder (off: another host ingests). */
  watch?: boolean;
  /** Classify new slides here (off: engine hosts do). */
  predict?: boolean;
  /** Told of the slides each batch of the watcher queued (engine hosts: to enqueue them). */
  onQueued?: (sha256s: string[]) => void;
  pollMs?: number;
}

export function StoreProvider({ config, store, children, watch = true, predict = true, onQueued, pollMs = POLL_MS }: StoreProviderProps) {
  const engine = useEngine();
  const [predicting, setPredicting] = useState(false);
  const [flags, setFlags] = useState<boolean[]>([]);
  const [warnings, setWarnings] = useState<string[]>([]);
  const predictor = useRef<Predictor | null>(null);
  const warn = useCallback((m: string) => setWarnings((w) => [...w.slice(-4), m]), []);
  const kick = useCallback(() => void predictor.current?.kick(), []);
  const snapshot = useStoreSnapshot(store, pollMs, warn, kick);
  const { refresh } = snapshot;
  const onRecorded = useCallback(
    (entries: FileEntry[]) => {
      void refresh();
      kick();
      onQueued?.(entries.filter((e) => e.state === 'queued' && e.sha256).map((e) => e.sha256!));
    },
    [refresh, kick, onQueued],
  );
  const watcherState = useWatcher(config, store, watch, warn, onRecorded);

  useEffect(() => {
    if (!predict || !engine.client || !engine.model) return;
    const p = new Predictor(config, engine.client, store, engine.model);
    predictor.current = p;
    p.on('predicted', (_sha: string, unusual: boolean) => {
      setPredicting(true);
      setFlags((f) => withSlide(f, unusual));
      void refresh();
    });
    p.on('error', (sha, message) => warn(`slide ${sha.slice(0, 12)}: ${message}`));
    p.on('idle', () => setPredicting(false));
    void p.kick();
    return () => {
      p.stop();
      predictor.current = null;
    };
  }, [config, engine.client, engine.model, store, refresh, warn, predict]);

  const newSlides = useMemo(() => recentFlags(flags), [flags]);
  const value: StoreState = { store, ...snapshot, watcher: watcherState, predicting, newSlides, warnings, warn };
  return <StoreContext.Provider value={value}>{children}</StoreContext.Provider>;
}

export function useStore(): StoreState {
  const state = useContext(StoreContext);
  if (!state) throw new Error('useStore outside StoreProvider');
  return state;
}

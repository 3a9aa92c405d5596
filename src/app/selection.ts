// Which slides the queue lists (sorted and filtered by the store), which one is selected or open, its
// prediction by the model in use, and, when zoomed, its own pixels. The list's keys come from the store
// at each change; the rows only for the pages around the selection.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { Config } from '../config.js';
import type { ModelInfo } from '../engine/protocol.js';
import { useStore } from '../contexts/StoreContext.js';
import { EMPTY_QUEUE, PAGE, pageOf, sparseOrder, type QueueView } from '../queue/rows.js';
import { selectedIndex, type TriageAction, type TriageState } from '../state/triage.js';
import type { FileEntry } from '../store/schema.js';
import { loadOriginal } from './predictor.js';

/** Rejected files the queue lists (the status command lists them all). */
const REJECTED_SHOWN = 200;

/**
 * The queue for the triage state's sort and filters: fetched when they change or the selection moves to
 * another page, and on every refresh of the store (which waits for it, so that what follows a decision or
 * an undo sees the list as it now is).
 */
function useQueue(model: ModelInfo | null, state: TriageState, warn: (m: string) => void): QueueView & { rejected: FileEntry[]; fresh: boolean } {
  const { store, onRefresh } = useStore();
  const [queue, setQueue] = useState<QueueView & { rejected: FileEntry[]; key: string }>({ ...EMPTY_QUEUE, rejected: [], key: '' });
  const [loading, setLoading] = useState(0);
  const modelId = model?.id ?? null;
  const { sort, stateFilter, labelFilter, selectedSha } = state;
  const key = JSON.stringify([modelId, sort, stateFilter, labelFilter]);
  const page = pageOf(selectedIndex(state, queue.order));
  // The open slide when it left this list (decided elsewhere), until its row is fetched.
  const missing = selectedSha && !queue.rows.has(selectedSha) ? selectedSha : null;
  // The selection as of now when a refresh comes (load is registered once per page, not once per key).
  const shaNow = useRef(selectedSha);
  useLayoutEffect(() => {
    shaNow.current = selectedSha;
  });
  const load = useCallback(async () => {
    setLoading((n) => n + 1);
    const selectedSha = shaNow.current;
    try {
      const window = await store.queueWindow({ modelId, sort, state: stateFilter, label: labelFilter }, { sha256: selectedSha, index: page * PAGE }, 3 * PAGE);
      const order = sparseOrder(window);
      const keys = [...window.keys];
      if (selectedSha && !keys.includes(selectedSha)) keys.push(selectedSha);
      const [rows, rejected] = await Promise.all([store.queueRows(keys, modelId), stateFilter === 'rejected' ? store.rejectedFiles(REJECTED_SHOWN) : []]);
      setQueue({ order, rows: new Map(rows.map((r) => [r.sha256, r])), rejected, key });
    } catch (err) {
      warn(`cannot read the queue: ${(err as Error).message}`);
    } finally {
      setLoading((n) => n - 1);
    }
  }, [store, modelId, sort, stateFilter, labelFilter, page, missing, key, warn]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => onRefresh(load), [onRefresh, load]);
  useEffect(() => {
    // load() marks itself under way at once, so that nothing pins the selection on the list it replaces.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void load();
  }, [load]);
  // A list fetched for other filters, or with a fetch under way, is not fresh.
  return { ...queue, fresh: queue.key === key && loading === 0 };
}

export function useSelection({ config, model, state, dispatch, warn }: { config: Config; model: ModelInfo | null; state: TriageState; dispatch(a: TriageAction): void; warn(m: string): void }) {
  const { order, rows, rejected, fresh } = useQueue(model, state, warn);
  const selected = selectedIndex(state, order);
  // The open slide, decided meanwhile by another technician, left this list: it stays on the screen (with
  // its new label) until the technician moves on, rather than another slide taking its place unseen.
  const held = state.screen === 'slide' && state.selectedSha && !order.includes(state.selectedSha) && state.lastDecided?.sha !== state.selectedSha ? rows.get(state.selectedSha) : undefined;
  const row = held ?? (order.length ? rows.get(order[selected]) : undefined);
  // The zoomed slide's own pixels, read once per slide (Tab and opacity keys reuse them); null: the preview.
  const zoomedSha = state.zoom !== null ? row?.sha256 : undefined;
  const resize = model?.resize;
  const original = useMemo(() => (zoomedSha && row && resize ? loadOriginal(config, row, resize).catch(() => null) : null), [zoomedSha, resize, config]); // eslint-disable-line react-hooks/exhaustive-deps
  // Hold the selection on the slide shown (see selectedIndex): after a re-sort, or once the slide it
  // held has left the list. Not from a list the store has moved on from: a slide pinned meanwhile (an
  // undo going back to its slide) may only be in the list being fetched.
  useEffect(() => {
    if (fresh && row && !held && (row.sha256 !== state.selectedSha || selected !== state.selected)) dispatch({ type: 'pin', sha: row.sha256, index: selected });
  }, [fresh, row, held, selected, state.selectedSha, state.selected, dispatch]);
  const prediction = row?.prediction && row.prediction.modelId === model?.id ? row.prediction : null;
  return { rows, rejected, order, selected, held, row, original, prediction };
}

// Which slides the queue lists (sorted and filtered), which one is selected or open, its prediction by
// the model in use, and, when zoomed, its own pixels.
import { useEffect, useMemo } from 'react';
import type { Config } from '../config.js';
import type { ModelInfo } from '../engine/protocol.js';
import { filterRows, slideRows, sortRows } from '../queue/rows.js';
import { selectedIndex, type TriageAction, type TriageState } from '../state/triage.js';
import type { StoreView } from '../store/schema.js';
import { loadOriginal } from './predictor.js';

export function useSelection({ config, data, model, state, dispatch }: { config: Config; data: StoreView; model: ModelInfo | null; state: TriageState; dispatch(a: TriageAction): void }) {
  const allRows = useMemo(() => sortRows(slideRows(data, model?.id ?? null), state.sort), [data, model, state.sort]);
  const rows = useMemo(() => filterRows(allRows, state.stateFilter, state.labelFilter), [allRows, state.stateFilter, state.labelFilter]);
  const rejected = useMemo(() => Object.values(data.files).filter((f) => f.state === 'rejected'), [data]);
  const order = useMemo(() => rows.map((r) => r.sha256), [rows]);
  const selected = selectedIndex(state, order);
  // The open slide, decided meanwhile by another technician, left this list: it stays on the screen (with
  // its new label) until the technician moves on, rather than another slide taking its place unseen.
  const held =
    state.screen === 'slide' && state.selectedSha && !order.includes(state.selectedSha) && state.lastDecided?.sha !== state.selectedSha
      ? allRows.find((r) => r.sha256 === state.selectedSha)
      : undefined;
  const row = held ?? rows[selected];
  // The zoomed slide's own pixels, read once per slide (Tab and opacity keys reuse them); null: the preview.
  const zoomedSha = state.zoom !== null ? row?.sha256 : undefined;
  const resize = model?.resize;
  const original = useMemo(() => (zoomedSha && row && resize ? loadOriginal(config, row, resize).catch(() => null) : null), [zoomedSha, resize, config]); // eslint-disable-line react-hooks/exhaustive-deps
  // Hold the selection on the slide shown (see selectedIndex): after a re-sort, or once the slide it
  // held has left the list.
  useEffect(() => {
    if (row && !held && (row.sha256 !== state.selectedSha || selected !== state.selected)) dispatch({ type: 'pin', sha: row.sha256, index: selected });
  }, [row, held, selected, state.selectedSha, state.selected, dispatch]);
  const prediction = row ? ((data.predictions[row.sha256] ?? []).findLast((p) => p.modelId === model?.id) ?? null) : null;
  return { rows, rejected, order, selected, held, row, original, prediction };
}

// The technician's decisions on the open slide: confirm or correct, and undo. Each applies to the slide
// on the screen, and the selection moves on before the store is written, so that keys typed faster than
// the screen redraws never land on a slide twice or on one not yet seen.
import { useCallback, type RefObject } from 'react';
import { useStore } from '../contexts/StoreContext.js';
import type { Prediction, StoreData } from '../store/schema.js';
import { currentLabel } from '../store/schema.js';
import { selectedIndex, type TriageAction, type TriageState } from '../state/triage.js';
import type { SlideRow } from './rows.js';

export interface DecisionContext {
  /** The slide on the screen and the prediction shown with it. */
  row: SlideRow | undefined;
  prediction: Prediction | null;
  /** The list as shown: its sha256s in order. */
  order: string[];
  state: TriageState;
  /** The state as of the last key, ahead of the last render. */
  latest: RefObject<TriageState>;
  dispatch(a: TriageAction): void;
}

/** The file name of a slide, for messages. */
export function slidePathOf(data: StoreData, sha: string | null): string {
  return sha ? (data.slides[sha]?.path ?? sha.slice(0, 12)) : 'a slide';
}

/**
 * Where the selection goes after a decision on the slide at `at`: the to-review list loses that slide, so
 * the next one takes its row (the previous one when it was the last); other lists keep it, so the next row.
 */
export function afterDecision(order: string[], at: number, leaves: boolean): { sha: string; index: number } | null {
  if (leaves) {
    if (at + 1 < order.length) return { sha: order[at + 1], index: at };
    return at > 0 ? { sha: order[at - 1], index: at - 1 } : null;
  }
  const next = Math.min(at + 1, order.length - 1);
  return next >= 0 ? { sha: order[next], index: next } : null;
}

export function useDecisions({ row, prediction, order, state, latest, dispatch }: DecisionContext) {
  const { store, data, refresh } = useStore();

  const decide = useCallback(
    async (label: string) => {
      if (!row) return;
      const pending = latest.current;
      // Once a decision has moved on, a decision key before the next slide is drawn is refused.
      if (pending.selectedSha && pending.selectedSha !== row.sha256) return dispatch({ type: 'message', text: 'the next slide is not on the screen yet: look at it first' });
      const action = prediction && prediction.label === label ? 'confirm' : 'correct';
      // The note as of the last key (it may have been typed in the same burst as this key), when it was
      // written on this slide: a note waiting on another slide stays with that one.
      const note = pending.noteSha === row.sha256 ? pending.note : '';
      const at = order.indexOf(row.sha256);
      // A slide kept on the screen after another technician decided it has left this list: the row that
      // took its place is next.
      const inPlace = selectedIndex(pending, order);
      const next = at >= 0 ? afterDecision(order, at, state.stateFilter === 'to review') : order.length ? { sha: order[inPlace], index: inPlace } : null;
      if (next) dispatch({ type: 'pin', ...next });
      dispatch({ type: 'decided', sha: row.sha256, index: at });
      try {
        await store.decide({ sha256: row.sha256, action, label, note, modelId: prediction?.modelId ?? null, predicted: prediction?.label ?? null, probabilities: prediction?.probabilities ?? null });
      } catch (err) {
        dispatch({ type: 'pin', sha: row.sha256, index: at });
        dispatch({ type: 'decided', sha: null, index: 0 });
        throw err;
      }
      if (note) dispatch({ type: 'note-used' });
      await refresh();
      dispatch({ type: 'message', text: `${action === 'confirm' ? 'confirmed' : 'corrected to'} ${label}` });
    },
    [row, prediction, order, state.stateFilter, latest, dispatch, store, refresh],
  );

  const undo = useCallback(async () => {
    if (!row) return;
    // On a slide with no decision of its own, u undoes the decision just made (the slide it moved on from)
    // and goes back to that slide, the way a technician who pressed the wrong number expects.
    const last = latest.current.lastDecided;
    const back = !currentLabel(data, row.sha256) && last && last.sha !== row.sha256 ? last : null;
    const entry = await store.undo(back?.sha ?? row.sha256);
    dispatch({ type: 'decided', sha: null, index: 0 });
    await refresh();
    // After the refresh, which puts the slide back in the to-review list: before it, the selection would
    // fall back to the slide shown.
    if (back) dispatch({ type: 'pin', sha: back.sha, index: back.index });
    dispatch({ type: 'message', text: entry ? `undone${back ? ` on ${slidePathOf(data, back.sha)}` : ''}: label now ${entry.label ?? 'none'}` : 'nothing to undo' });
  }, [row, latest, data, store, refresh, dispatch]);

  return { decide, undo };
}

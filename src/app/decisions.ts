// The technician's decisions on the open slide: confirm or correct, and undo. Each applies to the slide
// on the screen, and the selection moves on before the store is written, so that keys typed faster than
// the screen redraws never land on a slide twice or on one not yet seen.
import { useCallback, useEffect, useState, type RefObject } from 'react';
import { useStore } from '../contexts/StoreContext.js';
import type { Decision, Prediction } from '../store/schema.js';
import type { Decided, DecisionInput } from '../store/types.js';
import { selectedIndex, type TriageAction, type TriageState } from '../state/triage.js';
import type { SlideRow } from '../queue/rows.js';

export interface DecisionContext {
  /** The slide on the screen and the prediction shown with it. */
  row: SlideRow | undefined;
  /** The rows fetched (for the names of slides in messages). */
  rows: ReadonlyMap<string, SlideRow>;
  prediction: Prediction | null;
  /** The list as shown: its sha256s in order. */
  order: string[];
  state: TriageState;
  /** The state as of the last key, ahead of the last render. */
  latest: RefObject<TriageState>;
  dispatch(a: TriageAction): void;
  /** Whether no other technician's instance has the slide open. */
  isFree(sha: string): boolean;
  /** Whether this instance holds the slide's lease (resolves once its lease attempt has). */
  claim(sha: string): Promise<boolean>;
  /** Keeps the slide's lease until the decision is on disk. */
  holdWhile(sha: string, decision: Promise<unknown>): void;
}

/** The file name of a slide, for messages. */
export function slidePathOf(rows: ReadonlyMap<string, SlideRow>, sha: string | null): string {
  return sha ? (rows.get(sha)?.path ?? sha.slice(0, 12)) : 'a slide';
}

/** The open slide's decisions, oldest first, read again whenever the store changes. */
export function useDecisionHistory(sha: string | undefined): Decision[] {
  const { store, version } = useStore();
  const [history, setHistory] = useState<{ sha: string; decisions: Decision[] } | null>(null);
  useEffect(() => {
    if (!sha) return;
    let live = true;
    void store.decisionsOf(sha).then(
      (decisions) => live && setHistory({ sha, decisions }),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [store, sha, version]);
  return history && history.sha === sha ? history.decisions : [];
}

/**
 * Where the selection goes after a decision on the slide at `at`: the to-review list loses that slide, so
 * the next one takes its row (the previous one when it was the last); other lists keep it, so the next row.
 * Slides another technician has open (`isFree` false) are passed over.
 */
export function afterDecision(order: string[], at: number, leaves: boolean, isFree: (sha: string) => boolean = () => true): { sha: string; index: number } | null {
  const after = order.findIndex((sha, k) => k > at && isFree(sha));
  if (leaves) {
    if (after >= 0) return { sha: order[after], index: after - 1 };
    const before = order.findLastIndex((sha, k) => k < at && isFree(sha));
    return before >= 0 ? { sha: order[before], index: before } : null;
  }
  if (after >= 0) return { sha: order[after], index: after };
  return at >= 0 && at < order.length ? { sha: order[at], index: at } : null;
}

/** What the technician reads once a decision is on disk; another technician's change meanwhile is named. */
export function decidedMessage(action: 'confirm' | 'correct', label: string, overrode: Decision | null, slide: string): string {
  const done = `✓ ${action === 'confirm' ? 'confirmed' : 'corrected to'} ${label}`;
  if (!overrode) return done;
  const at = overrode.at.slice(11, 16);
  return `${done} — but ${overrode.technician} had set ${slide} to ${overrode.label} at ${at} UTC while you looked; yours is the label now (both are in the journal; u undoes yours)`;
}

export function useDecisions({ row, rows, prediction, order, state, latest, dispatch, isFree, claim, holdWhile }: DecisionContext) {
  const { store, refresh } = useStore();

  const decide = useCallback(
    async (label: string) => {
      if (!row) return;
      const pending = latest.current;
      // Once a decision has moved on, a decision key before the next slide is drawn is refused.
      if (pending.selectedSha && pending.selectedSha !== row.sha256) return dispatch({ type: 'message', text: 'the next slide is not on the screen yet: look at it first' });
      // Another instance had this slide first (this one is about to move on): its technician decides it.
      if (row.openBy && pending.override !== row.sha256)
        return dispatch({ type: 'message', text: `${row.openBy} has this slide open in another instance: not decided here. ] goes to the next slide; to take it over, Esc, then Enter and y on it` });
      const action = prediction && prediction.label === label ? 'confirm' : 'correct';
      // The note as of the last key (it may have been typed in the same burst as this key), when it was
      // written on this slide: a note waiting on another slide stays with that one.
      const note = pending.noteSha === row.sha256 ? pending.note : '';
      const at = order.indexOf(row.sha256);
      // A slide kept on the screen after another technician decided it has left this list: the row that
      // took its place is next.
      const inPlace = selectedIndex(pending, order);
      const next = at >= 0 ? afterDecision(order, at, state.stateFilter === 'to review', isFree) : order.length ? { sha: order[inPlace], index: inPlace } : null;
      // Written only while this instance holds the slide, and the slide's lease kept until it is on disk.
      const input: DecisionInput = {
        sha256: row.sha256,
        action,
        label,
        note,
        modelId: prediction?.modelId ?? null,
        predicted: prediction?.label ?? null,
        probabilities: prediction?.probabilities ?? null,
        seen: row.label,
      };
      const saved = claim(row.sha256).then((mine) => (mine ? store.decide(input) : null));
      holdWhile(row.sha256, saved);
      if (next) dispatch({ type: 'pin', ...next });
      dispatch({ type: 'decided', sha: row.sha256, index: at });
      // The pending mark stays until the journal line is on disk (milliseconds; longer on a busy disk).
      dispatch({ type: 'message', text: `⧗ ${action === 'confirm' ? 'confirming' : 'correcting to'} ${label}…` });
      let decided: Decided | null;
      try {
        decided = await saved;
      } catch (err) {
        dispatch({ type: 'pin', sha: row.sha256, index: at });
        dispatch({ type: 'decided', sha: null, index: 0 });
        throw new Error(`not saved: ${(err as Error).message}`);
      }
      if (!decided) {
        dispatch({ type: 'decided', sha: null, index: 0 });
        return dispatch({ type: 'message', text: `not decided: another instance opened ${row.path} first, and its technician decides it` });
      }
      if (note) dispatch({ type: 'note-used' });
      dispatch({ type: 'message', text: decidedMessage(action, label, decided.overrode, row.path) });
      await refresh();
    },
    [row, prediction, order, state.stateFilter, latest, dispatch, store, refresh, isFree, claim, holdWhile],
  );

  const undo = useCallback(async () => {
    if (!row) return;
    // On a slide with no decision of its own, u undoes the decision just made (the slide it moved on from)
    // and goes back to that slide, the way a technician who pressed the wrong number expects.
    const last = latest.current.lastDecided;
    const back = !row.label && last && last.sha !== row.sha256 ? last : null;
    const entry = await store.undo(back?.sha ?? row.sha256);
    dispatch({ type: 'decided', sha: null, index: 0 });
    await refresh();
    // After the refresh, which puts the slide back in the to-review list: before it, the selection would
    // fall back to the slide shown.
    if (back) dispatch({ type: 'pin', sha: back.sha, index: back.index });
    const backPath = back ? ((await store.slide(back.sha))?.path ?? slidePathOf(rows, back.sha)) : '';
    dispatch({ type: 'message', text: entry ? `undone${back ? ` on ${backPath}` : ''}: label now ${entry.label ?? 'none'}` : 'nothing to undo' });
  }, [row, rows, latest, store, refresh, dispatch]);

  return { decide, undo };
}

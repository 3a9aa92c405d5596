// The app's view state in one reducer: which screen, which slide, sorting, filters, layout, note.
import { useCallback, useReducer, useRef } from 'react';
import type { SortMode, StateFilter } from '../queue/rows.js';
import type { Context } from '../keymap.js';

export type Screen = 'queue' | 'slide' | 'help' | 'retrain' | 'benchmarks';
export type ScrollingScreen = 'help' | 'benchmarks';

export interface TriageState {
  screen: Screen;
  /** The screen help returns to. */
  previous: Screen;
  /** The selected row's position, and the slide itself: the selection follows the slide when the list re-sorts. */
  selected: number;
  selectedSha: string | null;
  sort: SortMode;
  stateFilter: StateFilter;
  labelFilter: string | null;
  /** large: one map as large as the space allows (the default map first, Tab for the next) and the others as thumbnails. */
  layout: 'large' | 'side-by-side';
  enlarged: number;
  /** Which of the cells under the map is shown (c), modulo their number. */
  cell: number;
  noteMode: boolean;
  note: string;
  /** The slide the note was written on: it goes with that slide's next decision and no other's. */
  noteSha: string | null;
  /** q or Ctrl-C was pressed while a note waited: a second press quits without it. */
  quitAsked: boolean;
  /** The slide of the last decision made here, and its row then: `u` on the slide shown next undoes it
   *  (until the technician moves on). */
  lastDecided: { sha: string; index: number } | null;
  message: string | null;
  /** Enter found the selected slide open in another technician's instance: y opens it anyway. */
  leaseAsked: string | null;
  /** The slide the technician chose to open although another instance had it. */
  override: string | null;
  /** The slide zoomed to the terminal's size: the map's opacity (0 hides it, 1 is as computed); null: not zoomed. */
  zoom: number | null;
  /** The first line shown of the screens that scroll on terminals shorter than they are. */
  scroll: Record<ScrollingScreen, number>;
}

export type TriageAction =
  | { type: 'go'; screen: Screen }
  | { type: 'toggle-help' }
  /** Scrolls a screen by `by` lines, to at most `max` (its lines that do not fit). */
  | { type: 'scroll'; screen: ScrollingScreen; by: number; max: number }
  /**
   * Moves from the selected slide by `by` rows in `order` (the sha256s of the list as shown); `skip`: slides
   * passed over (open in another technician's instance), where a slide further on is free.
   */
  | { type: 'move'; by: number; order: string[]; skip?: (sha: string) => boolean }
  | { type: 'lease-asked'; sha: string | null }
  | { type: 'override'; sha: string }
  /** The slide shown at `index` becomes the selection (the selected one left the list, or moved in it). */
  | { type: 'pin'; sha: string; index: number }
  | { type: 'sort' }
  | { type: 'filter-state' }
  | { type: 'filter-label'; labels: string[] }
  | { type: 'layout' }
  | { type: 'next-map'; count: number }
  | { type: 'next-cell' }
  /** Zoom in or out; the map's opacity up or down by `by`; the map off or back on. */
  | { type: 'zoom' }
  | { type: 'zoom-opacity'; by: number }
  | { type: 'zoom-overlay' }
  | { type: 'note-start'; sha: string }
  /** Typed text appended to the note (backspace: the last character removed). */
  | { type: 'note-type'; input: string; backspace: boolean }
  | { type: 'note-end'; keep: boolean }
  | { type: 'note-used' }
  | { type: 'message'; text: string | null }
  | { type: 'quit-asked'; asked: boolean }
  | { type: 'decided'; sha: string | null; index: number };

export const initialTriage: TriageState = {
  screen: 'queue',
  previous: 'queue',
  selected: 0,
  selectedSha: null,
  sort: 'uncertainty',
  stateFilter: 'to review',
  labelFilter: null,
  layout: 'large',
  enlarged: 0,
  cell: 0,
  noteMode: false,
  note: '',
  noteSha: null,
  quitAsked: false,
  lastDecided: null,
  message: null,
  leaseAsked: null,
  override: null,
  zoom: null,
  scroll: { help: 0, benchmarks: 0 },
};

const STATE_FILTERS: StateFilter[] = ['to review', 'labelled', 'rejected', 'all'];

export function triageReducer(s: TriageState, a: TriageAction): TriageState {
  switch (a.type) {
    case 'go':
      return { ...s, screen: a.screen, previous: s.screen === 'help' ? s.previous : s.screen, message: null, leaseAsked: null, zoom: a.screen === 'help' ? s.zoom : null };
    case 'toggle-help':
      return s.screen === 'help' ? { ...s, screen: s.previous } : { ...s, screen: 'help', previous: s.screen, scroll: { ...s.scroll, help: 0 } };
    case 'scroll':
      return { ...s, scroll: { ...s.scroll, [a.screen]: Math.min(Math.max(0, a.max), Math.max(0, s.scroll[a.screen] + a.by)) } };
    case 'move': {
      if (!a.order.length) return { ...s, selected: 0, selectedSha: null };
      // A selected slide that left the list (decided elsewhere) has the slide that took its row after it.
      const gone = !!s.selectedSha && !a.order.includes(s.selectedSha);
      const at = selectedIndex(s, a.order) - (gone && a.by > 0 ? 1 : 0);
      let next = Math.min(a.order.length - 1, Math.max(0, at + a.by));
      const step = Math.sign(a.by);
      while (step && a.skip?.(a.order[next]) && next + step >= 0 && next + step < a.order.length) next += step;
      if (a.skip?.(a.order[next])) next = Math.min(a.order.length - 1, Math.max(0, at)); // none free that way: stay
      // A message was about the slide being left; u undoes the last decision only right after it.
      // A row outside the window read (a hole in the sparse list) is selected by its position until its key comes.
      return { ...s, selected: next, selectedSha: a.order[next] ?? null, message: null, lastDecided: null, leaseAsked: null };
    }
    case 'zoom':
      return { ...s, zoom: s.zoom === null ? 1 : null };
    case 'zoom-opacity':
      return { ...s, zoom: Math.min(1, Math.max(0, Math.round(((s.zoom ?? 1) + a.by) * 4) / 4)) };
    case 'zoom-overlay':
      return { ...s, zoom: s.zoom ? 0 : 1 };
    case 'lease-asked':
      return { ...s, leaseAsked: a.sha };
    case 'override':
      return { ...s, override: a.sha, leaseAsked: null };
    case 'pin':
      return { ...s, selected: a.index, selectedSha: a.sha ?? null };
    case 'sort':
      return { ...s, sort: s.sort === 'uncertainty' ? 'arrival' : 'uncertainty', selected: 0, selectedSha: null };
    case 'filter-state':
      return { ...s, stateFilter: STATE_FILTERS[(STATE_FILTERS.indexOf(s.stateFilter) + 1) % STATE_FILTERS.length], selected: 0, selectedSha: null };
    case 'filter-label': {
      const options = [null, ...a.labels];
      return { ...s, labelFilter: options[(options.indexOf(s.labelFilter) + 1) % options.length], selected: 0, selectedSha: null };
    }
    case 'layout':
      return { ...s, layout: s.layout === 'side-by-side' ? 'large' : 'side-by-side' };
    case 'next-cell':
      return { ...s, cell: s.cell + 1 };
    case 'next-map':
      return { ...s, enlarged: a.count ? (s.enlarged + 1) % a.count : 0, layout: 'large' };
    case 'note-start':
      return { ...s, noteMode: true, noteSha: a.sha };
    case 'note-type':
      return { ...s, note: a.backspace ? s.note.slice(0, -1) : s.note + a.input };
    case 'note-end':
      return { ...s, noteMode: false, note: a.keep ? s.note : '', noteSha: a.keep && s.note ? s.noteSha : null, message: a.keep && s.note ? 'note kept for this slide' : null };
    case 'note-used':
      return { ...s, note: '', noteSha: null };
    case 'message':
      return { ...s, message: a.text };
    case 'quit-asked':
      return { ...s, quitAsked: a.asked };
    case 'decided':
      return { ...s, lastDecided: a.sha ? { sha: a.sha, index: a.index } : null };
  }
}

/**
 * The reducer hook, plus the state as of the last dispatch — ahead of the last render. Key handling reads
 * it, so that keys typed faster than the screen redraws (after `n`, after Enter opens a slide) go where
 * the previous key took the technician, never to the screen that is being left.
 */
export function useTriage() {
  const [state, dispatch] = useReducer(triageReducer, initialTriage);
  const latest = useRef(state);
  const send = useCallback((a: TriageAction) => {
    latest.current = triageReducer(latest.current, a);
    dispatch(a);
  }, []);
  return [state, send, latest] as const;
}

/**
 * The selected slide's row in `order` (the list's sha256s as shown): where that slide is now, so that a
 * slide sorting in above it never puts another one under the technician's keys; where the slide has left
 * the list (labelled, in the to-review list), the row that took its place.
 */
export function selectedIndex(s: TriageState, order: string[]): number {
  const at = s.selectedSha ? order.indexOf(s.selectedSha) : -1;
  return at >= 0 ? at : Math.max(0, Math.min(s.selected, order.length - 1));
}

/** Which bindings of the keymap apply. */
export function keyContext(s: TriageState): Context {
  if (s.screen === 'slide') return s.noteMode ? 'note' : s.zoom !== null ? 'zoom' : 'slide';
  return s.screen;
}

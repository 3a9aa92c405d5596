// The app's view state in one reducer: which screen, which slide, sorting, filters, layout, note.
import { useCallback, useReducer, useRef } from 'react';
import type { SortMode, StateFilter } from '../app/rows.js';
import type { Context } from '../keymap.js';

export type Screen = 'queue' | 'slide' | 'help' | 'retrain' | 'benchmarks';
export type ScrollingScreen = 'help' | 'benchmarks';

export interface TriageState {
  screen: Screen;
  /** The screen help returns to. */
  previous: Screen;
  selected: number;
  sort: SortMode;
  stateFilter: StateFilter;
  labelFilter: string | null;
  layout: 'side-by-side' | 'enlarged';
  enlarged: number;
  noteMode: boolean;
  note: string;
  message: string | null;
  /** The first line shown of the screens that scroll on terminals shorter than they are. */
  scroll: Record<ScrollingScreen, number>;
}

export type TriageAction =
  | { type: 'go'; screen: Screen }
  | { type: 'toggle-help' }
  /** Scrolls a screen by `by` lines, to at most `max` (its lines that do not fit). */
  | { type: 'scroll'; screen: ScrollingScreen; by: number; max: number }
  | { type: 'move'; by: number; count: number }
  | { type: 'select'; index: number }
  | { type: 'sort' }
  | { type: 'filter-state' }
  | { type: 'filter-label'; labels: string[] }
  | { type: 'layout' }
  | { type: 'next-map'; count: number }
  | { type: 'note-start' }
  /** Typed text appended to the note (backspace: the last character removed). */
  | { type: 'note-type'; input: string; backspace: boolean }
  | { type: 'note-end'; keep: boolean }
  | { type: 'note-used' }
  | { type: 'message'; text: string | null };

export const initialTriage: TriageState = {
  screen: 'queue',
  previous: 'queue',
  selected: 0,
  sort: 'uncertainty',
  stateFilter: 'to review',
  labelFilter: null,
  layout: 'side-by-side',
  enlarged: 0,
  noteMode: false,
  note: '',
  message: null,
  scroll: { help: 0, benchmarks: 0 },
};

const STATE_FILTERS: StateFilter[] = ['to review', 'labelled', 'rejected', 'all'];

export function triageReducer(s: TriageState, a: TriageAction): TriageState {
  switch (a.type) {
    case 'go':
      return { ...s, screen: a.screen, previous: s.screen === 'help' ? s.previous : s.screen, message: null };
    case 'toggle-help':
      return s.screen === 'help' ? { ...s, screen: s.previous } : { ...s, screen: 'help', previous: s.screen, scroll: { ...s.scroll, help: 0 } };
    case 'scroll':
      return { ...s, scroll: { ...s.scroll, [a.screen]: Math.min(Math.max(0, a.max), Math.max(0, s.scroll[a.screen] + a.by)) } };
    case 'move':
      return { ...s, selected: a.count ? Math.min(a.count - 1, Math.max(0, s.selected + a.by)) : 0 };
    case 'select':
      return { ...s, selected: Math.max(0, a.index) };
    case 'sort':
      return { ...s, sort: s.sort === 'uncertainty' ? 'arrival' : 'uncertainty', selected: 0 };
    case 'filter-state':
      return { ...s, stateFilter: STATE_FILTERS[(STATE_FILTERS.indexOf(s.stateFilter) + 1) % STATE_FILTERS.length], selected: 0 };
    case 'filter-label': {
      const options = [null, ...a.labels];
      return { ...s, labelFilter: options[(options.indexOf(s.labelFilter) + 1) % options.length], selected: 0 };
    }
    case 'layout':
      return { ...s, layout: s.layout === 'side-by-side' ? 'enlarged' : 'side-by-side' };
    case 'next-map':
      return { ...s, enlarged: a.count ? (s.enlarged + 1) % a.count : 0, layout: 'enlarged' };
    case 'note-start':
      return { ...s, noteMode: true };
    case 'note-type':
      return { ...s, note: a.backspace ? s.note.slice(0, -1) : s.note + a.input };
    case 'note-end':
      return { ...s, noteMode: false, note: a.keep ? s.note : '', message: a.keep && s.note ? 'note kept for the next decision' : null };
    case 'note-used':
      return { ...s, note: '' };
    case 'message':
      return { ...s, message: a.text };
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

/** Which bindings of the keymap apply. */
export function keyContext(s: TriageState): Context {
  if (s.screen === 'slide') return s.noteMode ? 'note' : 'slide';
  return s.screen;
}

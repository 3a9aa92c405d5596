// The Retrain screen's state: mode, selected version, the running job, its curve and result, and the
// promotion question.
import { useReducer } from 'react';
import type { RetrainResult } from '../engine/retrain/types.js';
import type { AdaptResult } from '../engine/adapt/types.js';
import type { VersionInfo } from '../engine/versions.js';

export interface RetrainState {
  mode: 'head' | 'full';
  versions: VersionInfo[];
  selected: number;
  job: { done: number; total: number; message: string } | null;
  /** Loss per epoch of the running or last run. */
  curve: number[];
  result: RetrainResult | null;
  /** The last adapt's result: the lab's slides seen by the current and the adapted model. */
  adapted: AdaptResult | null;
  /** The version waiting for `y`. */
  confirm: VersionInfo | null;
  message: string | null;
}

export type RetrainAction =
  | { type: 'versions'; versions: VersionInfo[] }
  | { type: 'mode' }
  | { type: 'move'; by: number }
  | { type: 'started' }
  | { type: 'progress'; done: number; total: number; message: string; loss?: number }
  | { type: 'finished'; result: RetrainResult }
  | { type: 'adapted'; result: AdaptResult }
  | { type: 'stopped'; message: string }
  | { type: 'ask'; version: VersionInfo }
  | { type: 'answered'; message: string };

export const initialRetrainState: RetrainState = { mode: 'head', versions: [], selected: 0, job: null, curve: [], result: null, adapted: null, confirm: null, message: null };

/** The new version's place in the list (after the default and the shipped models), else the first. */
const indexOf = (s: RetrainState, id: string) =>
  Math.max(
    0,
    s.versions.findIndex((v) => v.id === id),
  );

export function retrainReducer(s: RetrainState, a: RetrainAction): RetrainState {
  switch (a.type) {
    case 'versions':
      return { ...s, versions: a.versions, selected: Math.min(s.selected, Math.max(0, a.versions.length - 1)) };
    case 'mode':
      return s.job ? s : { ...s, mode: s.mode === 'head' ? 'full' : 'head' };
    case 'move':
      return { ...s, selected: Math.max(0, Math.min(s.versions.length - 1, s.selected + a.by)), confirm: null };
    case 'started':
      return { ...s, job: { done: 0, total: 1, message: 'starting' }, curve: [], result: null, adapted: null, message: null };
    case 'progress':
      return { ...s, job: { done: a.done, total: a.total, message: a.message }, curve: a.loss === undefined ? s.curve : [...s.curve, a.loss] };
    case 'finished':
      return { ...s, job: null, result: a.result, selected: indexOf(s, a.result.id), message: `new version ${a.result.id}: compare below, then p and y to promote it` };
    case 'adapted':
      return { ...s, job: null, adapted: a.result, selected: indexOf(s, a.result.id), message: `new version ${a.result.id} adapted to this lab: compare below, then p and y to promote it` };
    case 'stopped':
      return { ...s, job: null, message: a.message };
    case 'ask':
      return { ...s, confirm: a.version, message: null };
    case 'answered':
      return { ...s, confirm: null, message: a.message };
  }
}

export function useRetrainState() {
  return useReducer(retrainReducer, initialRetrainState);
}

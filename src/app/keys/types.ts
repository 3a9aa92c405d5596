// What a key's handler works with, and its shape: lazygit's controllers, one module a screen. The key
// declarations (label, description, match) stay in src/keymap.ts, which the `?` list is made from; the
// handlers are keyed by the same actions, and the type checker asks for one for every action.
import type { Action } from '../../keymap.js';
import type { Config } from '../../config.js';
import type { Prediction } from '../../store/schema.js';
import type { SlideRow } from '../../queue/rows.js';
import type { TriageAction, TriageState } from '../../state/triage.js';
import type { useLeases } from '../leases.js';
import type { useRetrain } from '../retrain.js';
import type { useVersionEvaluation } from '../version-evaluation.js';

export interface KeyDeps {
  config: Config;
  state: TriageState;
  /** The state as of the last key, not of the last render (see useTriage). */
  latest: { current: TriageState };
  dispatch(action: TriageAction): void;
  row: SlideRow | undefined;
  prediction: Prediction | null;
  order: string[];
  classes: string[];
  leases: ReturnType<typeof useLeases>;
  decide(label: string): Promise<unknown>;
  undo(): Promise<unknown>;
  /** An explanation (LIME, IG) running for the open slide. */
  jobRunning: boolean;
  /** The engine has a model loaded. */
  modelReady: boolean;
  /** The open slide shows every method of explain.methods already. */
  nothingToExplain: boolean;
  cancelJob(): void;
  explainMore(): Promise<void>;
  /** A slide another technician has open: moving on passes over it. */
  busyElsewhere(sha: string): boolean;
  slidePath(sha: string | null): string;
  quit(): void;
  /** The lines and rows of the scrolling screens (help, benchmarks), for their scroll limits. */
  scrollLimits(screen: 'help' | 'benchmarks'): { rows: number; count: number };
  retrain: ReturnType<typeof useRetrain>;
  versionEvaluation: ReturnType<typeof useVersionEvaluation>;
}

export interface Handler {
  run(input: string): void;
  /** Why the key does nothing now (said on the screen when pressed), or null. */
  disabled?(): string | null;
}

export type Handlers = Record<Action, Handler>;

/** Shows an error from a handler's work as the screen's message. */
export const reportTo = (d: KeyDeps) => (err: Error) => d.dispatch({ type: 'message', text: err.message });

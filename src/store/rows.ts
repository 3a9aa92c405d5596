// Table rows ↔ the store's records, for either store. JSON columns hold what has no fixed shape (probabilities, heatmap files).
import type { JournalEntry } from './journal.js';
import type { QueueRow } from './types.js';
import { decisionOf, type Decision, type FileEntry, type FileState, type Prediction, type Slide } from './schema.js';

export interface FileRow {
  path: string;
  state: string;
  sha256: string | null;
  duplicate_of: string | null;
  code: string | null;
  reason: string | null;
  size: number;
  mtime_ms: number;
  seen_at: string;
}

export const fileOf = (r: FileRow): FileEntry => ({
  path: r.path,
  state: r.state as FileState,
  sha256: r.sha256,
  duplicateOf: r.duplicate_of,
  code: r.code,
  reason: r.reason,
  size: r.size,
  mtimeMs: r.mtime_ms,
  seenAt: r.seen_at,
});

export const fileParams = (f: FileEntry) => ({
  path: f.path,
  state: f.state,
  sha256: f.sha256,
  duplicate_of: f.duplicateOf,
  code: f.code,
  reason: f.reason,
  size: f.size,
  mtime_ms: f.mtimeMs,
  seen_at: f.seenAt,
});

export interface SlideRow {
  sha256: string;
  path: string;
  width: number;
  height: number;
  added_at: string;
}

export const slideOf = (r: SlideRow): Slide => ({ sha256: r.sha256, path: r.path, width: r.width, height: r.height, addedAt: r.added_at });

export interface PredictionRow {
  model_id: string;
  label: string;
  probabilities: string;
  at: string;
  explanations: string;
  ood: string | null;
}

export function predictionOf(r: PredictionRow): Prediction {
  const p: Prediction = { modelId: r.model_id, label: r.label, probabilities: JSON.parse(r.probabilities), at: r.at, explanations: JSON.parse(r.explanations) };
  if (r.ood !== null) p.ood = JSON.parse(r.ood);
  return p;
}

/** Top probability minus the second: the queue's uncertainty order. */
export function marginOf(probabilities: Record<string, number>): number {
  const sorted = Object.values(probabilities).sort((a, b) => b - a);
  return (sorted[0] ?? 0) - (sorted[1] ?? 0);
}

export const predictionParams = (sha256: string, p: Prediction) => ({
  sha256,
  model_id: p.modelId,
  label: p.label,
  probabilities: JSON.stringify(p.probabilities),
  at: p.at,
  explanations: JSON.stringify(p.explanations),
  ood: p.ood === undefined ? null : JSON.stringify(p.ood),
  margin: marginOf(p.probabilities),
  unusual: p.ood?.unusual ? 1 : 0,
});

export interface JournalRow {
  seq: number;
  sha256: string;
  action: string;
  label: string | null;
  previous_label: string | null;
  predicted: string | null;
  probabilities: string | null;
  technician: string;
  display_name: string | null;
  model_id: string | null;
  note: string;
  at: string;
  prev_hash: string;
  hash: string;
}

/** The entry exactly as it was hashed: the same fields, the same values. */
export const entryOf = (r: JournalRow): JournalEntry => ({
  sha256: r.sha256,
  action: r.action as JournalEntry['action'],
  predicted: r.predicted,
  probabilities: r.probabilities === null ? null : JSON.parse(r.probabilities),
  label: r.label,
  previousLabel: r.previous_label,
  technician: r.technician,
  displayName: r.display_name,
  modelId: r.model_id,
  note: r.note,
  seq: r.seq,
  at: r.at,
  prevHash: r.prev_hash,
  hash: r.hash,
});

export const journalParams = (e: JournalEntry) => ({
  seq: e.seq,
  sha256: e.sha256,
  action: e.action,
  label: e.label,
  previous_label: e.previousLabel,
  predicted: e.predicted,
  probabilities: e.probabilities === null ? null : JSON.stringify(e.probabilities),
  technician: e.technician,
  display_name: e.displayName,
  model_id: e.modelId,
  note: e.note,
  at: e.at,
  prev_hash: e.prevHash,
  hash: e.hash,
});

export const decisionOfRow = (r: JournalRow): Decision => decisionOf(entryOf(r));

/** A queue row: the slide, its label, and the prediction that ranks it (null before any). */
export function queueRowOf(slide: { sha256: string; path: string; addedAt: string; label: string | null }, p: Prediction | null): QueueRow {
  const probs = p ? Object.values(p.probabilities).sort((a, b) => b - a) : null;
  return {
    ...slide,
    state: slide.label === null ? 'to review' : 'labelled',
    predicted: p?.label ?? null,
    probabilities: p?.probabilities ?? null,
    confidence: probs ? probs[0] : null,
    margin: probs ? probs[0] - (probs[1] ?? 0) : null,
    modelId: p?.modelId ?? null,
    unusual: p?.ood?.unusual ?? false,
    openBy: null,
    prediction: p,
  };
}

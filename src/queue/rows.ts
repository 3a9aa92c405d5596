// The queue's rows, derived from the store: one per slide, with its prediction, confidence and margin.
import { currentLabel, goneSlides, type StoreView } from '../store/schema.js';
import { leasedByOther } from '../store/leases.js';

export interface SlideRow {
  sha256: string;
  path: string;
  addedAt: string;
  state: 'to review' | 'labelled';
  predicted: string | null;
  probabilities: Record<string, number> | null;
  confidence: number | null;
  /** Top probability minus the second: small means uncertain. */
  margin: number | null;
  label: string | null;
  modelId: string | null;
  /** Far from the model's training images: its confidence means little. */
  unusual: boolean;
  /** The technician whose live instance (another one) has the slide open, or null. */
  openBy: string | null;
}

export type SortMode = 'uncertainty' | 'arrival';
export type StateFilter = 'all' | 'to review' | 'labelled' | 'rejected';

/** Slides whose files are all gone from the folder are not rows (their labels stay in the store). */
export function slideRows(data: StoreView, modelId: string | null): SlideRow[] {
  const gone = goneSlides(data);
  return Object.values(data.slides)
    .filter((slide) => !gone.has(slide.sha256))
    .map((slide) => {
      const predictions = data.predictions[slide.sha256] ?? [];
      const p = predictions.findLast((x) => x.modelId === modelId) ?? predictions.at(-1) ?? null;
      const probs = p ? Object.values(p.probabilities).sort((a, b) => b - a) : null;
      const decision = currentLabel(data, slide.sha256);
      return {
        sha256: slide.sha256,
        path: slide.path,
        addedAt: slide.addedAt,
        state: decision ? 'labelled' : 'to review',
        predicted: p?.label ?? null,
        probabilities: p?.probabilities ?? null,
        confidence: probs ? probs[0] : null,
        margin: probs ? probs[0] - (probs[1] ?? 0) : null,
        label: decision?.label ?? null,
        modelId: p?.modelId ?? null,
        unusual: p?.ood?.unusual ?? false,
        openBy: leasedByOther(data.leases[slide.sha256]) ? data.leases[slide.sha256].technician : null,
      };
    });
}

export function sortRows(rows: SlideRow[], mode: SortMode): SlideRow[] {
  const byArrival = (a: SlideRow, b: SlideRow) => (a.addedAt < b.addedAt ? -1 : a.addedAt > b.addedAt ? 1 : a.path < b.path ? -1 : 1);
  if (mode === 'arrival') return [...rows].sort(byArrival);
  // Slides unlike the training images first (a margin means nothing there), then uncertain first;
  // slides still waiting for a prediction after the predicted ones.
  return [...rows].sort((a, b) => Number(b.unusual) - Number(a.unusual) || (a.margin ?? 2) - (b.margin ?? 2) || byArrival(a, b));
}

export function filterRows(rows: SlideRow[], state: StateFilter, label: string | null): SlideRow[] {
  return rows.filter((r) => (state === 'all' || state === 'rejected' || r.state === state) && (label === null || r.predicted === label));
}

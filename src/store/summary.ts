// Counts for the status bar and `slidetriage status` (the store computes them with COUNT queries).
import type { FileState } from './schema.js';

export interface StoreSummary {
  files: Record<FileState, number>;
  /** Slides with a file in the folder; the others (gone) keep their labels and history. */
  slides: number;
  labelled: number;
  goneSlides: number;
  goneLabelled: number;
  unlabelled: number;
  byLabel: Record<string, number>;
  rejections: Record<string, number>;
  journalEntries: number;
  /** Of the slides to review (in the folder, unlabelled), how many each model has scored: a re-scoring's progress. */
  toReviewScoredBy: Record<string, number>;
}

export function emptySummary(): StoreSummary {
  return {
    files: { queued: 0, duplicate: 0, rejected: 0, changed: 0, gone: 0 },
    slides: 0,
    labelled: 0,
    goneSlides: 0,
    goneLabelled: 0,
    unlabelled: 0,
    byLabel: {},
    rejections: {},
    journalEntries: 0,
    toReviewScoredBy: {},
  };
}

/** The counts' query results, as either store gets them: files by state, rejections by code, slides by (gone, labelled), labels. */
export interface SummaryRows {
  fileStates: Array<{ state: FileState; n: number }>;
  rejections: Array<{ code: string; n: number }>;
  slideCounts: Array<{ gone: number | boolean; labelled: number | boolean; n: number }>;
  byLabel: Array<{ label: string; n: number }>;
  journalEntries: number;
  /** Rank rows of slides to review, by model. */
  toReviewScored?: Array<{ modelId: string; n: number }>;
}

export function summaryOf(rows: SummaryRows): StoreSummary {
  const s = emptySummary();
  for (const r of rows.fileStates) s.files[r.state] = r.n;
  s.rejections = Object.fromEntries(rows.rejections.map((r) => [r.code, r.n]));
  for (const r of rows.slideCounts) {
    if (!r.gone) s[r.labelled ? 'labelled' : 'unlabelled'] += r.n;
    else {
      s.goneSlides += r.n;
      if (r.labelled) s.goneLabelled += r.n;
    }
  }
  s.byLabel = Object.fromEntries(rows.byLabel.map((r) => [r.label, r.n]));
  for (const r of rows.toReviewScored ?? []) s.toReviewScoredBy[r.modelId] = (s.toReviewScoredBy[r.modelId] ?? 0) + r.n;
  return { ...s, slides: s.labelled + s.unlabelled, journalEntries: rows.journalEntries };
}

/** The counts from the tallies the writes keep (kinds files, rejected, slides as `{gone}:{labelled}`, label, and rank as `model␟{gone}{labelled}␟label`). */
export function summaryOfTallies(tallies: Array<{ kind: string; key: string; n: number }>, journalEntries: number): StoreSummary {
  const of = (kind: string) => tallies.filter((t) => t.kind === kind && Number(t.n) !== 0);
  return summaryOf({
    fileStates: of('files').map((t) => ({ state: t.key as FileState, n: Number(t.n) })),
    rejections: of('rejected').map((t) => ({ code: t.key, n: Number(t.n) })),
    slideCounts: of('slides').map((t) => ({ gone: t.key[0] === '1', labelled: t.key[2] === '1', n: Number(t.n) })),
    byLabel: of('label').map((t) => ({ label: t.key, n: Number(t.n) })),
    toReviewScored: of('rank').flatMap((t) => {
      const [modelId, flags] = t.key.split('\u001f');
      return flags === '00' ? [{ modelId, n: Number(t.n) }] : [];
    }),
    journalEntries,
  });
}

/** What differs between the tallies kept and a count of the tables (none when they match), in words. */
export function tallyProblems(kept: Array<{ kind: string; key: string; n: number | string }>, counted: Array<{ kind: string; key: string; n: number | string }>): string[] {
  const map = (rows: typeof kept) => new Map(rows.filter((r) => Number(r.n) !== 0).map((r) => [`${r.kind} ${r.key.replaceAll('\u001f', '/')}`, Number(r.n)]));
  const [k, c] = [map(kept), map(counted)];
  return [...new Set([...k.keys(), ...c.keys()])].filter((key) => k.get(key) !== c.get(key)).map((key) => `tally ${key}: kept ${k.get(key) ?? 0}, counted ${c.get(key) ?? 0}`);
}

/** Rank rows missing (a slide's latest prediction by a model without its row, or with stale values) and rows that should not be there. */
export function rankProblems(missing: number, stale: number): string[] {
  return [...(missing ? [`${missing} rank row(s) missing or out of date`] : []), ...(stale ? [`${stale} rank row(s) that no prediction makes`] : [])];
}

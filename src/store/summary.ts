// Counts for the status bar and `slidetriage status`.
import { currentLabel, goneSlides, type FileState, type StoreData } from './schema.js';

export interface StoreSummary {
  files: Record<FileState, number>;
  /** Slides with a file in the folder; the others (`goneSlides`) keep their labels and history. */
  slides: number;
  labelled: number;
  goneSlides: number;
  goneLabelled: number;
  unlabelled: number;
  byLabel: Record<string, number>;
  rejections: Record<string, number>;
  journalEntries: number;
}

export function summarise(data: StoreData): StoreSummary {
  const files: Record<FileState, number> = { queued: 0, duplicate: 0, rejected: 0, changed: 0, gone: 0 };
  const rejections: Record<string, number> = {};
  for (const f of Object.values(data.files)) {
    files[f.state]++;
    if (f.state === 'rejected') rejections[f.code ?? 'error'] = (rejections[f.code ?? 'error'] ?? 0) + 1;
  }
  // Every label counts (an export has them all); the others split by whether the slide is still there.
  const byLabel: Record<string, number> = {};
  const gone = goneSlides(data);
  const count = { labelled: 0, unlabelled: 0, goneSlides: 0, goneLabelled: 0 };
  for (const sha of Object.keys(data.slides)) {
    const label = currentLabel(data, sha)?.label;
    if (label) byLabel[label] = (byLabel[label] ?? 0) + 1;
    if (!gone.has(sha)) count[label ? 'labelled' : 'unlabelled']++;
    else {
      count.goneSlides++;
      if (label) count.goneLabelled++;
    }
  }
  return { files, slides: count.labelled + count.unlabelled, ...count, byLabel, rejections, journalEntries: data.journalHead.seq };
}

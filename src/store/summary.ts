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
  };
}

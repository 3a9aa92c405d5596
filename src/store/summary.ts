// Counts for the status bar and `slidetriage status`.
import { currentLabel, type StoreData } from './schema.js';

export interface StoreSummary {
  files: { queued: number; duplicate: number; rejected: number };
  slides: number;
  labelled: number;
  unlabelled: number;
  byLabel: Record<string, number>;
  rejections: Record<string, number>;
  journalEntries: number;
}

export function summarise(data: StoreData): StoreSummary {
  const files = { queued: 0, duplicate: 0, rejected: 0 };
  const rejections: Record<string, number> = {};
  for (const f of Object.values(data.files)) {
    files[f.state]++;
    if (f.state === 'rejected') rejections[f.code ?? 'error'] = (rejections[f.code ?? 'error'] ?? 0) + 1;
  }
  const byLabel: Record<string, number> = {};
  let labelled = 0;
  for (const sha of Object.keys(data.slides)) {
    const d = currentLabel(data, sha);
    if (d?.label) {
      labelled++;
      byLabel[d.label] = (byLabel[d.label] ?? 0) + 1;
    }
  }
  const slides = Object.keys(data.slides).length;
  return { files, slides, labelled, unlabelled: slides - labelled, byLabel, rejections, journalEntries: data.journalHead.seq };
}

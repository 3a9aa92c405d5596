// The adapt request: the lab's slides (the store's incoming folder, or a folder named on the command line)
// and its confirmed labels, if any, to compare the two models on. The same for `slidetriage adapt` and the app.
import path from 'node:path';
import type { Config } from '../config.js';
import { storeFolder } from '../config.js';
import type { AdaptRequest } from '../engine/adapt/types.js';
import { newVersionDir } from '../core/version-folders.js';
import { hasImageExtension } from '../ingest/image.js';
import { confirmedLabels, verifyLabelFiles } from '../store/labels.js';
import { slideCopiesDir } from '../store/slide-copies.js';
import type { SlideStore } from '../store/types.js';

export interface AdaptOptions {
  /** Image files to adapt on instead of the store's slides. */
  files: string[] | null;
  minSlides: number;
  maxSlides: number;
  colour: boolean;
}

/** `store` is null when `o.files` names the slides (no labels to compare on then). */
export async function buildAdaptRequest(config: Config, store: SlideStore | null, modelDir: string, o: AdaptOptions): Promise<AdaptRequest> {
  const files = o.files ?? (store ? (await store.presentFiles()).map((rel) => path.join(config.incoming, rel)) : []);
  const labels = store ? confirmedLabels(await store.labelledSlides(), config.incoming, slideCopiesDir(storeFolder(config))) : [];
  const { verified } = await verifyLabelFiles(labels);
  return {
    modelDir,
    outDir: newVersionDir(config.versions),
    name: 'slidetriage-adapted',
    files: files.filter((f) => hasImageExtension(f, config.images.extensions)).sort(),
    minSlides: o.minSlides,
    maxSlides: o.maxSlides,
    colour: o.colour,
    labelled: verified.map((l) => ({ file: l.file, label: l.label })),
    extensions: config.images.extensions,
    maxPixels: config.images.maxPixels,
    resize: config.images.resize,
  };
}

// The retraining request built from the store's confirmed labels: the same for `slidetriage retrain` and
// the Retrain screen.
import type { Config } from '../config.js';
import { storeFolder } from '../config.js';
import type { RetrainRequest } from '../engine/retrain/types.js';
import { newVersionDir } from '../core/version-folders.js';
import { confirmedLabels, holdOut, verifyLabelFiles } from '../store/labels.js';
import { slideCopiesDir } from '../store/slide-copies.js';
import type { SlideStore } from '../store/types.js';
import { assertStoreIntact } from '../store/integrity.js';
import { checkClassNames } from '../core/class-name.js';

export interface RetrainOptions {
  mode: 'head' | 'full';
  baseDataDir: string | null;
  classes: string[] | null;
  epochs: number | null;
  heldOutFraction: number;
  seed: number;
}

/**
 * Builds the request: the store's labels, split into training and held-out parts. A label whose image is
 * no longer the one labelled (and of which the store kept no copy) stops the retrain, by name.
 */
export async function buildRetrainRequest(config: Config, store: SlideStore, modelDir: string, modelClasses: string[], o: RetrainOptions): Promise<RetrainRequest> {
  await assertStoreIntact(store);
  if (o.classes) checkClassNames(o.classes);
  const { verified: labels, refused } = await verifyLabelFiles(confirmedLabels(await store.labelledSlides(), config.incoming, slideCopiesDir(storeFolder(config))));
  if (refused.length) throw new Error(`${refused.length} labelled slide(s) no longer hold the image that was labelled, so retraining would learn the wrong pixels: ${refused.join('; ')}`);
  if (!labels.length) throw new Error('the store has no confirmed labels yet: confirm or correct some slides first');
  const present = [...new Set(labels.map((l) => l.label))];
  const classes = o.classes ?? (present.every((l) => modelClasses.includes(l)) ? modelClasses : null);
  if (!classes) throw new Error(`the labels (${present.join(', ')}) are not all classes of the model (${modelClasses.join(', ')}): name the new model's classes with --classes`);
  const { train, heldOut } = holdOut(labels, o.heldOutFraction, o.seed);
  return {
    modelDir,
    outDir: newVersionDir(config.versions),
    name: 'slidetriage-retrained',
    mode: o.mode,
    train,
    heldOut,
    classes,
    baseDataDir: o.baseDataDir,
    epochs: o.epochs ?? (o.mode === 'head' ? 60 : 5),
    batch: 32,
    // Head-only trains a fresh head; full fine-tunes every weight of a trained model, at a tenth of that.
    lr: o.mode === 'head' ? 0.001 : 0.0001,
    seed: o.seed,
    extensions: config.images.extensions,
    maxPixels: config.images.maxPixels,
    resize: config.images.resize,
  };
}

// `train --init`: the weights a run starts from. One bundle: its layers that match by name and shape.
// Several: their uniform weight average (a "model soup", Wortsman et al., 2022) — meaningful only for
// models fine-tuned from one start, which sit in one basin; batch-norm statistics are averaged with the
// rest. Each bundle's recorded prior correction is taken out first, so the run (and `--epochs 0`) ends
// with one correction for its own class weights.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadBundle } from '../bundle.js';
import { readWeights, writeWeights } from './checkpoint.js';
import { recordedPriorCorrection, removePriorCorrection } from './prior-correction.js';
import { runningMean } from './weight-average.js';

export interface InitNote {
  bundles: Array<{ dir: string; id: string; correctionRemoved: Record<string, number> | null }>;
  layersCopied: number;
  layersNew: string[];
}

export async function initFrom(dirs: string[], model: tf.LayersModel): Promise<InitNote> {
  const note: InitNote = { bundles: [], layersCopied: 0, layersNew: [] };
  let mean: Float32Array[] | null = null;
  for (const [i, dir] of dirs.entries()) {
    const from = await loadBundle(dir);
    let copied: ReturnType<typeof copyMatchingWeights>;
    const recorded = recordedPriorCorrection(from.manifest.training);
    try {
      if (recorded) removePriorCorrection(from.model, from.manifest.spec.classes, recorded);
      copied = copyMatchingWeights(from.model, model);
    } finally {
      from.model.dispose();
    }
    if (i > 0 && (copied.copied !== note.layersCopied || copied.skipped.join() !== note.layersNew.join())) {
      throw new Error(
        `cannot average ${dir} with ${dirs[0]}: ${copied.copied} layers match against ${note.layersCopied} (new: ${copied.skipped.join(', ') || 'none'} against ${note.layersNew.join(', ') || 'none'})`,
      );
    }
    note.bundles.push({ dir: path.resolve(dir), id: from.manifest.id, correctionRemoved: recorded });
    note.layersCopied = copied.copied;
    note.layersNew = copied.skipped;
    if (dirs.length > 1) mean = runningMean(mean, readWeights(model), i);
  }
  if (mean) writeWeights(model, mean, tf);
  return note;
}

/** Copies weights layer by layer where name and shapes agree (a different head or class list is skipped). */
export function copyMatchingWeights(from: tf.LayersModel, to: tf.LayersModel): { copied: number; skipped: string[] } {
  let copied = 0;
  const skipped: string[] = [];
  for (const layer of to.layers) {
    const weights = layer.getWeights();
    if (!weights.length) continue;
    let source: tf.layers.Layer | null = null;
    try {
      source = from.getLayer(layer.name);
    } catch {
      source = null;
    }
    const values = source?.getWeights() ?? [];
    if (values.length === weights.length && values.every((v, i) => tf.util.arraysEqual(v.shape, weights[i].shape))) {
      layer.setWeights(values);
      copied++;
    } else {
      skipped.push(layer.name);
    }
    // getWeights() hands out the live variables, not copies: nothing to dispose here.
  }
  return { copied, skipped };
}

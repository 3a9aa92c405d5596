// The confirmed labels of the store as training material, and a stratified, seeded held-out part.
import path from 'node:path';
import type { RetrainLabel } from '../engine/retrain/types.js';
import { rng, shuffle } from '../core/random.js';
import type { LabelledSlide } from './types.js';
import { findSlideCopy, readVerified, SlideChangedError } from './slide-copies.js';

/**
 * Every slide whose current decision carries a label, oldest decision first. Each file is the store's
 * kept copy of the slide where there is one, else its incoming file (see verifyLabelFiles).
 */
export function confirmedLabels(labelled: LabelledSlide[], incomingDir: string, copiesDir: string): RetrainLabel[] {
  return labelled
    .filter((r) => r.decision.label !== null)
    .map(({ slide, decision: d }) => ({
      file: findSlideCopy(copiesDir, slide.sha256) ?? path.join(incomingDir, slide.path),
      label: d.label!,
      sha256: slide.sha256,
      decidedAt: d.at,
      technician: d.technician,
    }))
    .sort((a, b) => a.decidedAt.localeCompare(b.decidedAt) || a.sha256.localeCompare(b.sha256));
}

/**
 * Checks that every label's file still holds the image that was labelled (its sha256); returns those that
 * do, and a sentence for each that does not.
 */
export async function verifyLabelFiles(labels: RetrainLabel[]): Promise<{ verified: RetrainLabel[]; refused: string[] }> {
  const verified: RetrainLabel[] = [];
  const refused: string[] = [];
  for (const l of labels) {
    try {
      await readVerified(l.file, l.sha256, l.file);
      verified.push(l);
    } catch (err) {
      if (!(err instanceof SlideChangedError)) throw err;
      refused.push(err.message);
    }
  }
  return { verified, refused };
}

/**
 * Holds out about `fraction` of each class (at least one image of every class that has two or more),
 * chosen with `seed`, so that a new version is judged on labels it did not train on.
 */
export function holdOut(labels: RetrainLabel[], fraction: number, seed: number): { train: RetrainLabel[]; heldOut: RetrainLabel[] } {
  const random = rng(seed);
  const train: RetrainLabel[] = [];
  const heldOut: RetrainLabel[] = [];
  const byClass = new Map<string, RetrainLabel[]>();
  for (const l of labels) byClass.set(l.label, [...(byClass.get(l.label) ?? []), l]);
  for (const [, items] of [...byClass.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const order = shuffle(items, random);
    const n = fraction > 0 && items.length >= 2 ? Math.max(1, Math.round(items.length * fraction)) : 0;
    heldOut.push(...order.slice(0, n));
    train.push(...order.slice(n));
  }
  return { train, heldOut };
}

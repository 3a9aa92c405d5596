// What `adapt` takes and gives back: the caller (app or CLI) names the lab's slides, the worker adapts.
import type { ColourStats } from './colour.js';
import type { Comparison } from '../retrain/types.js';

export interface AdaptRequest {
  /** The model the new version starts from (the current one). */
  modelDir: string;
  outDir: string;
  name: string;
  /** The lab's own slides (absolute paths), unlabelled. */
  files: string[];
  /** Fewer readable slides than this: refused (colour and neighbours from a handful would be noise). */
  minSlides: number;
  /** At most this many, spread over the list, are read. */
  maxSlides: number;
  /** Align the lab's colour to the training images' (colour.ts); the index is re-fitted either way. */
  colour: boolean;
  /** Confirmed labels of the lab's slides, if any: both models are scored on them. */
  labelled: Array<{ file: string; label: string }>;
  extensions: string[];
  maxPixels: number;
  resize: 'stretch' | 'letterbox';
}

/** How a model sees the lab's slides it was not adapted on (no labels: shares only). */
export interface LabView {
  n: number;
  /** Slides the out-of-distribution check flags. */
  flagged: number;
  /** Slides called anything but the negative class (null: the model has none). */
  calledMalignant: number | null;
  /** Slides called each class. */
  calls: Record<string, number>;
}

export interface AdaptResult {
  id: string;
  outDir: string;
  parent: string;
  seconds: number;
  slides: { read: number; unreadable: string[]; fitted: number; checked: number };
  colour: { applied: boolean; note: string | null; lab: ColourStats; reference: ColourStats | null };
  before: LabView;
  after: LabView;
  heldOut: Comparison;
  /** Set when the adapted model calls many fewer slides malignant: the technician should check it (lab-warning). */
  warning: string | null;
}

export class AdaptRefusedError extends Error {}

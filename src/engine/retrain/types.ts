// What a retrain takes and gives back; the caller (app or CLI) picks the labels, the worker trains.
import type { Metrics } from '../metrics.js';

export interface RetrainLabel {
  /** Absolute path of the image. */
  file: string;
  label: string;
  sha256: string;
  decidedAt: string;
  technician: string;
}

export interface RetrainRequest {
  /** The model the new version starts from (the current one). */
  modelDir: string;
  outDir: string;
  name: string;
  /** head: train the head on cached backbone features (fast); full: fine-tune every layer. */
  mode: 'head' | 'full';
  train: RetrainLabel[];
  /** Confirmed labels kept out of training, on which both models are compared. */
  heldOut: RetrainLabel[];
  /** Class list of the new model (the current model's when the labels fit it). */
  classes: string[];
  /** A base data set (class folders) merged into training — its training part only — and whose test part is the second yardstick. */
  baseDataDir: string | null;
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  extensions: string[];
  maxPixels: number;
  resize: 'stretch' | 'letterbox';
}

export interface Comparison {
  n: number;
  current: Metrics | null;
  candidate: Metrics | null;
  /** Why a side is missing (other classes, no images). */
  note?: string;
}

export interface RetrainResult {
  id: string;
  outDir: string;
  mode: RetrainRequest['mode'];
  seconds: number;
  trainedOn: number;
  heldOut: Comparison;
  base: Comparison;
  curve: Array<{ epoch: number; loss: number; accuracy: number }>;
}

// The types of a training run: what the caller gives (hooks), what it gets back, and the state the run's
// phases share (Run).
import type * as tf from '@tensorflow/tfjs';
import type { Manifest } from '../bundle.js';
import type { HeldOutIntervals, Metrics } from '../metrics.js';
import type { ModelSpec } from '../models/spec.js';
import type { OrtSessionOptions } from '../onnx/ort-runtime.js';
import type { OrtTrainingStep } from '../onnx/ort-training.js';
import type { Adamax } from './adamax.js';
import type { EpochRecord, TrainState } from './checkpoint.js';
import type { EvalForward } from './eval-forward.js';
import type { GradientWorker } from './gradient-workers.js';
import type { InitNote } from './init-from.js';
import type { TrainingGraph } from './micro-batch.js';
import type { TrainOptions, TrainProgress } from './options.js';
import type { RunData, Say } from './run-data.js';

export interface TrainHooks {
  progress(p: TrainProgress): void;
  /** Lets a cancel request in; throws CancelledError when the run should stop. */
  checkpoint(): Promise<void>;
  /** ONNX Runtime session settings for validation and evaluation (the engine's configured threads and provider); CPU, one thread per core, when absent. */
  ortSettings?: OrtSessionOptions;
}

export interface Evaluation {
  metrics: Metrics;
  /** The same images averaged over the eight flips and rotations. */
  tta: Metrics;
  /** Forward-pass time of the plain evaluation: the whole part, and per image. */
  msTotal: number;
  msPerImage: number;
  /** Where those forward passes ran. */
  runtime: EvalForward['runtime'];
  /** 95% intervals of the plain evaluation's accuracy and binary AUC, drawing the split's blocks. */
  intervals: HeldOutIntervals;
}

/** What the model said on a held-out part, for curves drawn later (predictions.json beside the bundle). */
export interface PartPredictions {
  /** The images, relative to the data folder (the split's order). */
  files: string[];
  labels: number[];
  probabilities: number[][];
}

export interface TrainResult {
  outDir: string;
  manifest: Manifest;
  stoppedBy: 'epochs' | 'early-stopping' | 'max-steps';
  val: Evaluation | null;
  test: Evaluation | null;
  history: EpochRecord[];
  seconds: number;
  parameters: number;
  predictions: { val: PartPredictions | null; test: PartPredictions | null };
}

/** Everything the phases of one run share; the mutable parts change as it trains. */
export interface Run extends RunData {
  o: TrainOptions;
  hooks: TrainHooks;
  say: Say;
  ckptDir: string;
  spec: ModelSpec;
  model: tf.LayersModel;
  graph: TrainingGraph;
  optimizer: Adamax;
  initNote: InitNote | null;
  state: TrainState;
  /** The weights of the best validation loss so far, and the running mean of the averaged epochs. */
  best: Float32Array[] | null;
  average: Float32Array[] | null;
  /** The ONNX Runtime training lane (ort-lane.ts), or null: the steps run on tfjs. */
  ort: OrtTrainingStep | null;
  /** Gradient workers besides this thread (data-parallel training). */
  helpers: GradientWorker[];
  stoppedBy: TrainResult['stoppedBy'];
  stepsPerEpoch: number;
  sessionStart: number;
  lastSave: number;
  totalSteps: number;
  /** Images and milliseconds of training steps so far in this session (images per second). */
  rate: { images: number; ms: number };
}

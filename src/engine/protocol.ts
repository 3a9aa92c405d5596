// The typed message API between callers (UI, headless commands) and the engine worker.
// Every request carries an id; the worker answers with progress events and then one result or error.
import type { BackendChoice, OnnxProviderChoice, RuntimeChoice } from '../config.js';
import type { BackendReport } from './tfjs/backend.js';
import type { TrainOptions } from './train/options.js';
import type { TrainResult } from './train/run-types.js';
import type { Heatmap } from './explain/types.js';
import type { XaiEvalRequest, XaiEvalResult } from './explain/evaluate.js';
import type { RetrainRequest, RetrainResult } from './retrain/types.js';
import type { AdaptRequest, AdaptResult } from './adapt/types.js';
import type { VersionEvaluation, VersionEvaluationRequest } from './retrain/evaluate-versions.js';
import type { OodCheck } from './ood/knn.js';
import type { Pointer, VersionInfo } from './versions.js';

export interface ExplainRequest {
  /** size × size × 3 floats in [0,1], at the loaded model's input size. */
  image: Float32Array;
  methods: string[];
  /** Class index to explain; the predicted class when omitted. */
  target?: number;
  options?: Record<string, Record<string, unknown>>;
  /** Probabilities as the mean over the 8 symmetries of the square. */
  tta?: boolean;
}

export interface ExplainResult {
  probabilities: Float32Array;
  target: number;
  heatmaps: Heatmap[];
  /** How far the image is from the training images (null: the model has no index). */
  ood: OodCheck | null;
}

export interface ModelInfo {
  id: string;
  name: string;
  classes: string[];
  inputSize: number;
  variant: string;
  resize: 'stretch' | 'letterbox';
  parameters: number;
  runtime: string;
  dir: string;
  /** Held-out metrics from the manifest, when the bundle has them. */
  metrics: Record<string, unknown> | null;
}

export interface ClassifyResult {
  /** One row per input, per-class probabilities in the order of ModelInfo.classes. */
  probabilities: Float32Array[];
  /** Wall time of the forward passes in the worker. */
  ms: number;
  /** Per input, how far it is from the training images (null: the model has no index). */
  ood: Array<OodCheck | null>;
}

export interface MemoryReport {
  tensors: number;
  tensorBytes: number;
  heapUsed: number;
  rss: number;
  /** Bytes of the wasm backend's linear memory (0 on other backends). */
  wasmHeap: number;
}

/** Request name → [payload, result]. */
export interface EngineCalls {
  /** runtime: who runs forward passes ('auto' when omitted: ONNX Runtime when it loads). */
  init: [{ backend: BackendChoice; threads: number; runtime?: RuntimeChoice; onnxProvider?: OnnxProviderChoice }, BackendReport];
  load: [{ modelDir: string }, ModelInfo];
  /** inputs: size × size × 3 floats in [0,1] per image; batch: images per forward pass. */
  classify: [{ inputs: Float32Array[]; batch: number; tta?: boolean }, ClassifyResult];
  memory: [Record<string, never>, MemoryReport];
  /** Builds an untrained EfficientNet and times forward passes (bench:engine). */
  /** Explains one image with the loaded model; progress per method and step. */
  explain: [ExplainRequest, ExplainResult];
  /** Measures the explanation methods on a data folder with the loaded model. */
  xaiEval: [XaiEvalRequest, XaiEvalResult];
  /** Scores a saved model version on confirmed labels. */
  evaluateVersion: [VersionEvaluationRequest, VersionEvaluation];
  /** A new model version from technician labels (head-only or full); progress per step. */
  retrain: [RetrainRequest, RetrainResult];
  /** A new model version adapted to a lab from its unlabelled slides (colour, out-of-distribution index). */
  adapt: [AdaptRequest, AdaptResult];
  /** The model versions (versions.ts): the default, the shipped ones, then every retrained version. */
  versions: [{ versionsDir: string; defaultDir: string; shipped: string[] }, VersionInfo[]];
  /** Makes a version the current model (promote or roll back), appended to current.json's history. */
  setCurrent: [{ versionsDir: string; target: VersionInfo; action: 'promote' | 'rollback'; by: string }, Pointer];
  /** Trains a model bundle; progress events carry TrainProgress in `data`. */
  train: [TrainOptions, TrainResult];
  /** Times Integrated Gradients on an untrained EfficientNet: the first call (graph export, session, warm-up) and the next. */
  benchIg: [{ variant: string; size: number; steps: number; runtime: 'tfjs' | 'onnx' }, { firstMs: number; nextMs: number; completenessGap: number }];
  /** tfjs: TensorFlow.js; onnx: our ONNX Runtime path (export + OrtModel); onnx-bare: session.run alone on the same graph. */
  benchForward: [
    /** variant 'loaded': the loaded bundle's own exported graph at its input size (bench:predict's bare passes). */
    { variant: string; size: number; batch: number; runs: number; runtime?: 'tfjs' | 'onnx' | 'onnx-bare' },
    { msPerRun: number[]; flops: number; parameters: number; exportMs?: number },
  ];
}

export type CallName = keyof EngineCalls;
export type CallPayload<K extends CallName> = EngineCalls[K][0];
export type CallResult<K extends CallName> = EngineCalls[K][1];

export type ToWorker =
  | { kind: 'call'; id: number; name: CallName; payload: unknown }
  | { kind: 'cancel'; id: number }
  /** Release the native sessions and end the thread (EngineClient.close). */
  | { kind: 'shutdown' };

export interface Progress {
  done: number;
  total: number;
  message?: string;
  /** Call-specific detail (TrainProgress for train). */
  data?: unknown;
}

export type FromWorker =
  | { kind: 'progress'; id: number; progress: Progress }
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number; error: { name: string; message: string } }
  | { kind: 'log'; level: 'info' | 'warn'; message: string };

export class EngineError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor() {
    super('cancelled');
  }
}

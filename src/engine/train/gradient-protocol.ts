// Messages between the training loop and a gradient worker of data-parallel training.
import type { ModelSpec } from '../models/spec.js';
import type { MicroBatch } from './micro-batch.js';

export type ToGradientWorker =
  /** weights: every model weight (readWeights order) when batch norm is frozen; its statistics are used. */
  | { kind: 'init'; backend: string; spec: ModelSpec; seed: number; weights: Float32Array[] | null }
  /** weights: the trainable variables in order, sent once per step before its first micro-batch. */
  | { kind: 'compute'; id: number; batch: MicroBatch; randomSeed: number; weights: Float32Array[] | null };

export type FromGradientWorker =
  { kind: 'ready'; variables: number } | { kind: 'result'; id: number; loss: number; hits: number; grads: Array<Float32Array | null> } | { kind: 'error'; id: number | null; message: string };

// The ONNX exporter's names, options and values, shared by export.ts and the per-layer converters.
import type * as tf from '@tensorflow/tfjs';

/** Bumped whenever the exporter writes a different graph for the same weights (cached files are redone). */
export const EXPORTER_VERSION = 1;

export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'probabilities';
export const ONNX_FEATURES = 'features';
/** Gradient graph: the seed ∂score/∂logits in, the logits and ∂score/∂input out. */
export const ONNX_LOGITS = 'logits';
export const ONNX_LOGITS_GRAD = 'logits_grad';
export const ONNX_INPUT_GRAD = 'input_grad';
/** A gradient graph's stage maps and their gradients (LayerCAM, Grad-CAM on finer maps): `stage_<side>`, `stage_<side>_grad`, NHWC. */
export const stageOutput = (side: number) => `stage_${side}`;
export const stageGradOutput = (side: number) => `stage_${side}_grad`;
/** The stage maps a gradient graph gives, as strides of the input (28 and 14 at 224 px). */
export const STAGE_STRIDES = [8, 16];

/** Training graph: the loss's inputs and outputs; trainable weight k comes in as `weight_k` and its gradient goes out as `grad_k`. */
export const ONNX_TARGET = 'target';
export const ONNX_SAMPLE_WEIGHT = 'sample_weight';
export const ONNX_REG_SCALE = 'reg_scale';
export const ONNX_ACTIVITY_SCALE = 'activity_scale';
export const ONNX_LOSS = 'loss';
/** The localisation penalty's inputs (export-mask-penalty.ts): [batch, 1, side, side] shares outside the cells, and λ·share/n. */
export const ONNX_CELL_OUTSIDE = 'cell_outside';
export const ONNX_MASK_PENALTY_SCALE = 'mask_penalty_scale';
export const weightInputName = (k: number) => `weight_${k}`;
export const weightGradName = (k: number) => `grad_${k}`;

/**
 * What a training graph differentiates. The loss is the class-weighted cross-entropy, each image's
 * weight given (`sample_weight`, which carries the 1/n and the micro-batch's share), plus the layers' L1/L2
 * regularisers times `reg_scale` and the L1 on `activityLayer`'s output times `activity_scale`.
 */
export interface TrainingExport {
  /** The variables to differentiate, in the order of the graph's weight inputs and gradient outputs. */
  trainable: tf.LayerVariable[];
  /** frozen: batch norm on its moving statistics; batch: on the micro-batch's (their values are outputs). */
  batchNorm: 'frozen' | 'batch';
  /** Dropout as in training (masks given as inputs); false: the identity, for parity tests. */
  dropout: boolean;
  activityLayer?: string;
  /** The side of the map the localisation penalty reads (train/mask-penalty.ts); absent: no penalty. */
  maskPenaltySide?: number;
}

export interface ExportOptions {
  /** Layer whose output becomes the second output (CAM, Grad-CAM); none when absent from the model. */
  featureLayer?: string;
  foldBatchNorm?: boolean;
  metadata?: Record<string, string>;
  /**
   * Also emit the backward pass to the input: the graph takes `logits_grad` ([batch, units], the
   * gradient of the score with respect to the output layer's pre-activation) and returns `logits` and
   * `input_grad` (NHWC) instead of the feature map. Integrated Gradients runs on it.
   */
  gradient?: boolean;
  /** A training graph instead (see TrainingExport): batch norm is not folded. */
  training?: TrainingExport;
}

/** A training graph's dropout mask input: [batch, ...shape] values, 0 or 1/(1 − rate). */
export interface DropoutMask {
  input: string;
  rate: number;
  shape: number[];
}

/** A batch norm's statistics over the micro-batch (batch-statistics mode): output names, [channels] each. */
export interface BatchStats {
  layer: string;
  mean: string;
  variance: string;
}

export interface ExportResult {
  bytes: Uint8Array;
  /** Output names in order: probabilities, then features when the model has the feature layer. */
  outputs: string[];
  nodes: number;
  foldedBatchNorms: number;
  /** Training graph: the dropout masks to feed. */
  dropoutMasks: DropoutMask[];
  /** Training graph in batch-statistics mode: the statistics to fetch, batch norms in model order. */
  batchStats: BatchStats[];
}

/** A tensor of the tfjs graph as it exists in the ONNX graph. */
export interface Value {
  name: string;
  /** 'nchw' for 4-D maps (tfjs shape [H, W, C] without batch), 'flat' for [N, C]. */
  layout: 'nchw' | 'flat';
  shape: number[];
  /** Zero padding not applied yet: [top, bottom, left, right] (taken by a following 'valid' conv or pool). */
  pad?: [number, number, number, number];
}

export type Cfg = Record<string, unknown>;

export class ExportError extends Error {}

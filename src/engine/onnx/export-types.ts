// The ONNX exporter's names, options and values, shared by export.ts and the per-layer converters.

/** Bumped whenever the exporter writes a different graph for the same weights (cached files are redone). */
export const EXPORTER_VERSION = 1;

export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'probabilities';
export const ONNX_FEATURES = 'features';
/** Gradient graph: the seed ∂score/∂logits in, the logits and ∂score/∂input out. */
export const ONNX_LOGITS = 'logits';
export const ONNX_LOGITS_GRAD = 'logits_grad';
export const ONNX_INPUT_GRAD = 'input_grad';

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
}

export interface ExportResult {
  bytes: Uint8Array;
  /** Output names in order: probabilities, then features when the model has the feature layer. */
  outputs: string[];
  nodes: number;
  foldedBatchNorms: number;
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

// A runtime runs forward passes of a loaded model bundle. TensorFlow.js is the first; ONNX Runtime
// plugs in beside it behind the same interface.
import type { ModelInfo } from './protocol.js';

export interface Runtime {
  readonly name: string;
  load(modelDir: string): Promise<ModelInfo>;
  /** Forward pass of n images packed in one array (n × size × size × 3); per-class probabilities, row-major. */
  classify(batch: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
}

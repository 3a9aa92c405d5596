// What the engine's calls share: the backend, the TensorFlow.js runtime with the loaded bundle, and who
// runs forward passes (ONNX Runtime or TensorFlow.js). One object, made by the worker, given to each call.
import type { CallName, CallPayload, CallResult, Progress } from '../protocol.js';
import type { BackendReport } from '../tfjs/backend.js';
import type { TfjsRuntime } from '../tfjs/tfjs-runtime.js';
import type { ForwardRunner } from '../forward.js';

export interface CallContext {
  id: number;
  progress(p: Progress): void;
  /** Lets pending messages (cancel) in, then throws if this call was cancelled. */
  checkpoint(): Promise<void>;
}

export type Handlers = { [K in CallName]: (payload: CallPayload<K>, ctx: CallContext) => Promise<CallResult<K>> };

export interface EngineState {
  backend: BackendReport | null;
  runtime: TfjsRuntime | null;
  forward: ForwardRunner;
  requireRuntime(): TfjsRuntime;
}

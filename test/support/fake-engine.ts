// An EngineClient for UI tests that do not test the engine: it answers at once, starts no worker thread
// and opens no ONNX Runtime session. init and load give a backend and the model it was made with; explain
// gives flat maps and the class the seeded probabilities favour; versions is empty. Anything else fails,
// so that a test which needs the real engine says so instead of passing on made-up figures.
import path from 'node:path';
import type { CallHandle, EngineClient } from '../../src/engine/client.js';
import type { CallName, CallPayload, CallResult, ExplainResult, ModelInfo } from '../../src/engine/protocol.js';

export class FakeEngineClient {
  private nextId = 1;
  readonly calls: CallName[] = [];

  constructor(private readonly model: ModelInfo) {}

  onLog(): () => void {
    return () => undefined;
  }

  private answer(name: CallName, payload: unknown): unknown {
    switch (name) {
      case 'init':
        return { backend: 'wasm', skipped: [], addedKernels: [] };
      case 'load': {
        // Another folder is no model here, as a folder without a bundle is none for the real engine.
        const { modelDir } = payload as CallPayload<'load'>;
        if (path.resolve(modelDir) !== path.resolve(this.model.dir)) throw new Error(`no model bundle in ${modelDir}`);
        return this.model;
      }
      case 'versions':
        return [];
      case 'explain': {
        const { methods } = payload as CallPayload<'explain'>;
        const size = this.model.inputSize;
        const probabilities = Float32Array.from(this.model.classes, (_, i) => (i === 0 ? 0.7 : 0.3 / (this.model.classes.length - 1)));
        const heatmaps = methods.map((method) => ({
          method,
          size,
          values: new Float32Array(size * size).fill(0.5),
          target: 0,
          targetLabel: this.model.classes[0],
          params: {},
          diagnostics: {},
          ms: 1,
        }));
        return { probabilities, target: 0, heatmaps, ood: null } satisfies ExplainResult;
      }
      default:
        throw new Error(`the fake engine does not do ${name}: use the real EngineClient in this test`);
    }
  }

  start<K extends CallName>(name: K, payload: CallPayload<K>): CallHandle<CallResult<K>> {
    this.calls.push(name);
    const result = Promise.resolve().then(() => this.answer(name, payload) as CallResult<K>);
    return { id: this.nextId++, result, cancel: () => undefined };
  }

  call<K extends CallName>(name: K, payload: CallPayload<K>): Promise<CallResult<K>> {
    return this.start(name, payload).result;
  }

  async close(): Promise<'released'> {
    return 'released';
  }

  /** Typed as the real client for the providers. */
  asClient(): EngineClient {
    return this as unknown as EngineClient;
  }
}

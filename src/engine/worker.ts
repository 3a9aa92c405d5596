// The engine worker: owns TensorFlow.js, the loaded model and every forward pass, so the UI thread
// never blocks on inference. It answers the calls of protocol.ts; cancellation is checked between batches.
// Each call's work is in calls/ (one module a group of calls); this file holds the shared state, runs the
// calls one at a time and answers the client.
import { parentPort } from 'node:worker_threads';
import { CancelledError, type FromWorker, type ToWorker } from './protocol.js';
import { ForwardRunner } from './forward.js';
import type { CallContext, EngineState, Handlers } from './calls/state.js';
import { modelCalls } from './calls/model-calls.js';
import { explainCalls } from './calls/explain-calls.js';
import { trainingCalls } from './calls/training-calls.js';
import { benchCalls } from './calls/bench-calls.js';

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;

const send = (msg: FromWorker) => port.postMessage(msg);
const cancelled = new Set<number>();
const state: EngineState = {
  backend: null,
  runtime: null,
  forward: new ForwardRunner((message) => send({ kind: 'log', level: 'warn', message })),
  requireRuntime() {
    if (!state.runtime) throw new Error('the engine has no backend yet: call init first');
    return state.runtime;
  },
};
const handlers: Handlers = { ...modelCalls(state), ...explainCalls(state), ...trainingCalls(state), ...benchCalls(state) };

async function handle(msg: Extract<ToWorker, { kind: 'call' }>): Promise<void> {
  const ctx: CallContext = {
    id: msg.id,
    progress: (progress) => send({ kind: 'progress', id: msg.id, progress }),
    checkpoint: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      if (cancelled.has(msg.id)) throw new CancelledError();
    },
  };
  try {
    const handler = handlers[msg.name] as (p: unknown, c: CallContext) => Promise<unknown>;
    if (!handler) throw new Error(`unknown engine call "${msg.name}"`);
    const result = await handler(msg.payload, ctx);
    send({ kind: 'result', id: msg.id, result });
  } catch (err) {
    const e = err as Error;
    send({ kind: 'error', id: msg.id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err) } });
    // A wasm abort (out of memory: its heap never shrinks) leaves the backend unusable for every later
    // call. End the thread; the client starts a fresh one with the same backend and model.
    if (/^Aborted\(/.test(e?.message ?? '')) setImmediate(() => process.exit(1));
  } finally {
    cancelled.delete(msg.id);
  }
}

// Calls run one at a time, in order: the model and the backend are shared state.
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  if (msg.kind === 'cancel') {
    cancelled.add(msg.id);
    return;
  }
  if (msg.kind === 'shutdown') {
    // ONNX Runtime's sessions are released here, in order: a thread terminated with them live can
    // take the process down while the native addon's finalisers run.
    queue = queue.then(async () => {
      await state.forward.dispose().catch(() => undefined);
      state.runtime?.dispose();
      process.exit(0); // in a worker thread this ends the thread only
    });
    return;
  }
  queue = queue.then(() => handle(msg));
});

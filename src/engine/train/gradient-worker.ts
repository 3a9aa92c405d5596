// A gradient worker of data-parallel training: its own TensorFlow.js (tfjs-wasm runs one thread per
// instance in Node), a copy of the model, and micro-batch gradients on request. Weights come from the
// training loop every step; the worker's batch-norm moving averages are never read, except when batch
// norm is frozen: then they come once with the model and stay.
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../models/spec.js';
import { resolveBackend } from '../tfjs/backend.js';
import type { BackendChoice } from '../../config.js';
import { freezeBatchNorm } from './batch-norm.js';
import { writeWeights } from './checkpoint.js';
import { rng } from '../../core/random.js';
import { microBatchGradients, trainingGraph, type TrainingGraph } from './micro-batch.js';
import type { FromGradientWorker, ToGradientWorker } from './gradient-protocol.js';

if (!parentPort) throw new Error('gradient-worker.ts must run in a worker thread');
const port = parentPort;
const send = (msg: FromGradientWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
let graph: TrainingGraph | null = null;

port.on('message', (msg: ToGradientWorker) => {
  void handle(msg).catch((err: Error) => send({ kind: 'error', id: msg.kind === 'compute' ? msg.id : null, message: err.message }));
});

async function handle(msg: ToGradientWorker): Promise<void> {
  if (msg.kind === 'init') {
    await resolveBackend(msg.backend as BackendChoice);
    const model = buildModel(msg.spec, msg.seed);
    if (msg.weights) {
      writeWeights(model, msg.weights, tf);
      freezeBatchNorm(model);
    }
    graph = trainingGraph(model, msg.spec.head, msg.spec.classes.length);
    send({ kind: 'ready', variables: graph.trainable.length });
    return;
  }
  if (!graph) throw new Error('the gradient worker has no model yet');
  const g = graph;
  if (msg.weights) {
    if (msg.weights.length !== g.trainable.length) throw new Error(`got ${msg.weights.length} weight arrays for ${g.trainable.length} variables`);
    g.trainable.forEach((v, i) => {
      const t = tf.tensor(msg.weights![i], v.shape);
      v.assign(t);
      t.dispose();
    });
  }
  // Dropout and stochastic depth draw from Math.random: seeded per micro-batch, as the training loop does.
  const systemRandom = Math.random;
  Math.random = rng(msg.randomSeed);
  try {
    const r = await microBatchGradients(g, msg.batch);
    const grads = r.grads.map((t) => (t ? (t.dataSync() as Float32Array).slice() : null));
    r.grads.forEach((t) => t?.dispose());
    send(
      { kind: 'result', id: msg.id, loss: r.loss, hits: r.hits, grads },
      grads.flatMap((a) => (a ? [a.buffer as ArrayBuffer] : [])),
    );
  } finally {
    Math.random = systemRandom;
  }
}

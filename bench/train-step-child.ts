// One row of bench:train-step, in a process of its own: `tfjs|ort VARIANT MICRO`, printing {msPerImage,
// peakMb}. The steps are the trainer's: micro-batch gradients, summed, then Adamax.
import * as tf from '@tensorflow/tfjs';
import { parseModelName } from '../src/engine/models/architectures.js';
import { buildModel, defaultSpec } from '../src/engine/models/spec.js';
import type { Variant } from '../src/engine/models/efficientnet.js';
import { OrtTrainingStep } from '../src/engine/onnx/ort-training.js';
import { resolveBackend } from '../src/engine/tfjs/backend.js';
import { Adamax } from '../src/engine/train/adamax.js';
import { freezeBatchNorm } from '../src/engine/train/batch-norm.js';
import { accumulate, microBatchGradients, trainingGraph, type MicroBatch } from '../src/engine/train/micro-batch.js';
import { stepGradients } from '../src/engine/train/ort-lane.js';

const [engine, variant, microArg] = process.argv.slice(2) as ['tfjs' | 'ort', Variant, string];
const size = Number(process.env.SIZE ?? 224);
const batch = Number(process.env.BATCH ?? 16);
const steps = Number(process.env.STEPS ?? 3);
const batchNorm = process.env.BN === 'frozen' ? 'frozen' : 'batch';
await resolveBackend('wasm');
const classes = ['Benign', 'Early', 'Pre', 'Pro'];
// A baseline (vgg19, resnet50, …) is named as `slidetriage bench` names it.
const architecture = /^(b[0-7]|lite[0-4]|mobilenetv2)$/.test(variant) ? 'efficientnet' : parseModelName(variant).architecture;
const spec = architecture === 'efficientnet' ? defaultSpec(variant, classes, { inputSize: size }) : defaultSpec('b0', classes, { architecture, variant, inputSize: size, preprocessing: 'imagenet' });
const model = buildModel(spec, 1);
if (batchNorm === 'frozen') freezeBatchNorm(model);
const graph = trainingGraph(model, spec.head, classes.length);
const optimizer = new Adamax(0.001);
const micro = Number(microArg);
const batches: MicroBatch[] = [];
for (let m = 0; m < batch; m += micro) {
  const n = Math.min(micro, batch - m);
  const labels = Array.from({ length: n }, (_, i) => (m + i) % classes.length);
  batches.push({ x: Float32Array.from({ length: n * size * size * 3 }, () => Math.random()), size, labels, weights: labels.map(() => 1), share: n / batch });
}
const ort = engine === 'ort' ? await OrtTrainingStep.create(model, model.trainableWeights, spec.head, classes.length, { threads: 0, provider: 'cpu', dropout: true, batchNorm }) : null;

async function step(): Promise<void> {
  let grads: Array<tf.Tensor | null> = graph.trainable.map(() => null);
  if (ort) grads = (await stepGradients(ort, model, graph.trainable, batches)).grads;
  else for (const mb of batches) accumulate(grads, (await microBatchGradients(graph, mb)).grads);
  optimizer.apply(graph.trainable, grads);
  tf.dispose(grads.filter((g): g is tf.Tensor => !!g));
}

await step(); // warm-up: kernels compiled, buffers allocated
let best = Infinity;
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await step();
  best = Math.min(best, performance.now() - t0);
}
await ort?.dispose();
console.log(JSON.stringify({ msPerImage: best / batch, peakMb: process.resourceUsage().maxRSS / 1024, note: `${micro} images a pass` }));

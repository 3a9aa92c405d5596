// Where a training step's time goes: tf.profile over one forward+backward pass, kernel times summed by name.
import * as tf from '@tensorflow/tfjs';
import { resolveBackend } from '../src/engine/tfjs/backend.js';
import { buildModel, defaultSpec } from '../src/engine/models/spec.js';

const size = Number(process.env.SIZE ?? 128);
const batch = Number(process.env.BATCH ?? 16);
await resolveBackend('wasm');
const spec = defaultSpec('b0', ['a', 'b', 'c', 'd'], { inputSize: size, head: { pooling: 'avg', denseUnits: 0 } });
const model = buildModel(spec, 1);
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
const xs = tf.randomUniform([batch, size, size, 3]);
const y = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 4),
    'int32',
  ),
  4,
);
const step = () => {
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, vars);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
step();
let t0 = performance.now();
step();
const plain = performance.now() - t0;
t0 = performance.now();
const info = await tf.profile(step);
const byName = new Map<string, { ms: number; n: number }>();
for (const k of info.kernels) {
  const e = byName.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.n++;
  byName.set(k.name, e);
}
const total = [...byName.values()].reduce((s, e) => s + e.ms, 0);
console.log(`B0@${size} batch ${batch}: step ${plain.toFixed(0)} ms (${(plain / batch).toFixed(1)} ms/img), kernels ${total.toFixed(0)} ms`);
for (const [name, e] of [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25))
  console.log(`${name.padEnd(36)} ${e.ms.toFixed(0).padStart(7)} ms  ${String(e.n).padStart(5)}×  ${((100 * e.ms) / total).toFixed(1)}%`);

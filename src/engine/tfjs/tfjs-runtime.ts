// Forward passes on TensorFlow.js, with every intermediate tensor freed so that long runs keep a flat heap.
import * as tf from '@tensorflow/tfjs';
import { loadBundle, type LoadedBundle } from '../bundle.js';
import type { ModelInfo } from '../protocol.js';
import type { Runtime } from '../runtime.js';
import { toClassProbabilities } from '../models/head.js';

export class TfjsRuntime implements Runtime {
  private bundle: LoadedBundle | null = null;
  constructor(readonly name: string) {}

  get loaded(): LoadedBundle | null {
    return this.bundle;
  }

  async load(modelDir: string): Promise<ModelInfo> {
    const next = await loadBundle(modelDir);
    this.bundle?.model.dispose();
    this.bundle = next;
    const { manifest, model } = next;
    return {
      id: manifest.id,
      name: manifest.name,
      classes: manifest.spec.classes,
      inputSize: manifest.spec.inputSize,
      variant: manifest.spec.variant,
      resize: manifest.preprocessing.resize,
      parameters: model.countParams(),
      runtime: this.name,
      dir: modelDir,
      metrics: manifest.metrics,
    };
  }

  async classify(batch: Float32Array, n: number): Promise<Float32Array> {
    if (!this.bundle) throw new Error('no model loaded');
    const { model, manifest } = this.bundle;
    const size = manifest.spec.inputSize;
    if (batch.length !== n * size * size * 3) throw new Error(`expected ${n} × ${size}×${size}×3 inputs, got ${batch.length} values`);
    const out = tf.tidy(() => model.predict(tf.tensor4d(batch, [n, size, size, 3])) as tf.Tensor);
    try {
      const raw = (await out.data()) as Float32Array;
      const classes = manifest.spec.classes.length;
      const rows = toClassProbabilities(raw, n, classes);
      const flat = new Float32Array(n * classes);
      rows.forEach((r, i) => flat.set(r, i * classes));
      return flat;
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    this.bundle?.model.dispose();
    this.bundle = null;
  }
}

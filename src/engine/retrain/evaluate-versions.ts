// How a saved model version does on the labels technicians confirmed: every labelled slide whose label is
// one of the version's classes, classified and scored (the Benchmarks screen, `slidetriage models evaluate`).
import * as tf from '@tensorflow/tfjs';
import { loadBundle, type LoadedBundle } from '../bundle.js';
import { prepareImage } from '../../ingest/image.js';
import { computeMetrics, type Metrics } from '../metrics.js';
import { toClassProbabilities } from '../models/head.js';
import type { OrtModel } from '../onnx/ort-runtime.js';

export interface VersionEvaluationRequest {
  modelDir: string;
  items: Array<{ file: string; label: string }>;
  extensions: string[];
  maxPixels: number;
}

export interface VersionEvaluation {
  id: string;
  n: number;
  /** Labels outside the version's classes, and files that could not be read. */
  skipped: number;
  metrics: Metrics | null;
  note?: string;
}

export async function evaluateVersion(req: VersionEvaluationRequest, hooks: { checkpoint(): Promise<void>; ort(b: LoadedBundle): Promise<OrtModel | null> }): Promise<VersionEvaluation> {
  const bundle = await loadBundle(req.modelDir);
  const ort = await hooks.ort(bundle);
  try {
    const { classes, inputSize: size } = bundle.manifest.spec;
    const probs: Float32Array[] = [];
    const truth: number[] = [];
    let skipped = 0;
    for (const item of req.items) {
      await hooks.checkpoint();
      const label = classes.indexOf(item.label);
      if (label < 0) {
        skipped++;
        continue;
      }
      let input: Float32Array;
      try {
        input = (await prepareImage(item.file, { extensions: req.extensions, maxPixels: req.maxPixels, maxBytes: Number.MAX_SAFE_INTEGER }, size, bundle.manifest.preprocessing.resize)).input;
      } catch {
        skipped++;
        continue;
      }
      let raw: Float32Array;
      if (ort) raw = (await ort.run(input, 1)).probabilities;
      else raw = tf.tidy(() => (bundle.model.predict(tf.tensor4d(input, [1, size, size, 3])) as tf.Tensor).dataSync() as Float32Array);
      probs.push(toClassProbabilities(raw, 1, classes.length)[0]);
      truth.push(label);
    }
    const negative = classes.find((c) => /^(benign|hem|normal)$/i.test(c));
    return {
      id: bundle.manifest.id,
      n: truth.length,
      skipped,
      metrics: truth.length ? computeMetrics(probs, truth, classes, negative) : null,
      note: truth.length ? undefined : 'no confirmed label of its classes',
    };
  } finally {
    await ort?.dispose();
    bundle.model.dispose();
  }
}

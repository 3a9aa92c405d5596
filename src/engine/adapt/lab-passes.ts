// The lab's slides through a model: probabilities and pooled features from one pass (ONNX Runtime, or
// TensorFlow.js where it cannot run), and what they say without labels.
import * as tf from '@tensorflow/tfjs';
import type { LoadedBundle } from '../bundle.js';
import { toClassProbabilities } from '../models/head.js';
import { featureMapOf } from '../models/feature-split.js';
import type { OrtModel } from '../onnx/ort-runtime.js';
import { pooledRows } from '../ood/check.js';
import { checkOod, type OodIndex } from '../ood/knn.js';
import type { LabView } from './types.js';

export interface Passes {
  probabilities: Float32Array[];
  pooled: Float32Array[];
}

const CHUNK = 8;

function pack(images: Float32Array[], size: number): Float32Array {
  const packed = new Float32Array(images.length * size * size * 3);
  images.forEach((p, i) => packed.set(p, i * size * size * 3));
  return packed;
}

export async function labPasses(bundle: LoadedBundle, ort: OrtModel | null, images: Float32Array[], checkpoint: () => Promise<void>): Promise<Passes> {
  const { inputSize: size, classes } = bundle.manifest.spec;
  const out: Passes = { probabilities: [], pooled: [] };
  for (let s = 0; s < images.length; s += CHUNK) {
    await checkpoint();
    const part = images.slice(s, s + CHUNK);
    const batch = pack(part, size);
    if (ort) {
      const r = await ort.run(batch, part.length, true);
      if (!r.features) throw new Error('the ONNX graph has no feature output');
      out.probabilities.push(...toClassProbabilities(r.probabilities, part.length, classes.length));
      out.pooled.push(...pooledRows(bundle, r.features));
    } else {
      const raw = tf.tidy(() => bundle.model.predict(tf.tensor4d(batch, [part.length, size, size, 3])) as tf.Tensor);
      out.probabilities.push(...toClassProbabilities((await raw.data()) as Float32Array, part.length, classes.length));
      raw.dispose();
      out.pooled.push(...pooledRows(bundle, await featureMapOf(bundle.model, batch, part.length, size)));
    }
  }
  return out;
}

/** What the passes say of the lab's slides: flagged, called malignant, called each class. */
export function labView(classes: string[], negative: string | undefined, passes: Passes, ood: OodIndex | null): LabView {
  const calls = Object.fromEntries(classes.map((c) => [c, 0]));
  let flagged = 0;
  passes.probabilities.forEach((p, i) => {
    calls[classes[p.indexOf(Math.max(...p))]]++;
    if (ood && checkOod(ood, passes.pooled[i]).unusual) flagged++;
  });
  const n = passes.probabilities.length;
  return { n, flagged, calledMalignant: negative ? n - calls[negative] : null, calls };
}

// Integrated Gradients on the 14 × 14 map (issue #38): the path integral taken in the activations of the
// stage before the last, from those of a black image to the slide's, through the rest of the network only,
// as LayerCAM reads that map. Attributions (A − A′) ⊙ ∫ ∂F/∂A dα, summed over channels, positive evidence
// only, upsampled as the CAMs are. Pixel-level IG sat at the pixel-noise floor (xai-eval); at the map's scale
// its relevance is the stage's, which points at cells, and completeness still holds for the part integrated.
import * as tf from '@tensorflow/tfjs';
import { splitAtSide } from './layer-split.js';
import { upsample, type ExplanationMethod } from './types.js';

export interface LayerIgOptions {
  steps: number;
}

function integrate(split: ReturnType<typeof splitAtSide>, a: tf.Tensor4D, a0: tf.Tensor4D, target: number, steps: number): { map: tf.Tensor2D; sum: number; delta: number } {
  return tf.tidy(() => {
    const diff = tf.sub(a, a0);
    const alphas = Array.from({ length: steps + 1 }, (_, i) => i / steps);
    // Trapezoid weights: half at the two ends.
    const weights = tf.tensor1d(alphas.map((x) => (x === 0 || x === 1 ? 0.5 : 1) / steps)).reshape([-1, 1, 1, 1]);
    const points = tf.add(a0, tf.mul(tf.tensor1d(alphas).reshape([-1, 1, 1, 1]), diff));
    const score = (t: tf.Tensor) => split.scores(t).slice([0, target], [-1, 1]).sum();
    const meanGrad = tf.sum(tf.mul(tf.grad(score)(points), weights), 0);
    const attributions = tf.mul(diff.squeeze([0]), meanGrad) as tf.Tensor3D;
    const [h, w] = attributions.shape;
    const delta = score(a).dataSync()[0] - score(a0).dataSync()[0];
    return { map: tf.relu(tf.sum(attributions, -1)).reshape([h, w]) as tf.Tensor2D, sum: tf.sum(attributions).dataSync()[0], delta };
  });
}

/** IG on the last map of `side` = input / `stride` pixels. */
export function layerIgAtStride(name: string, stride: number): ExplanationMethod<LayerIgOptions> {
  return {
    name,
    defaults: { steps: 16 },
    async compute({ model, image, size, target }, { steps }, hooks) {
      await hooks.checkpoint?.();
      const split = splitAtSide(model, Math.round(size / stride));
      const [a, a0] = tf.tidy(() => [image, new Float32Array(image.length)].map((x) => split.features.predict(tf.tensor4d(x, [1, size, size, 3])) as tf.Tensor4D));
      try {
        const { map, sum, delta } = integrate(split, a, a0, target, steps);
        const values = upsample(map, size);
        map.dispose();
        return { map: values, diagnostics: { completenessGap: Math.abs(sum - delta) / Math.max(Math.abs(delta), 1e-12), scoreDifference: delta, sumOfAttributions: sum } };
      } finally {
        tf.dispose([a, a0]);
      }
    },
  };
}

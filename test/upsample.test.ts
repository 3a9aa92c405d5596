import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { upsampleValues } from '../src/engine/explain/types.js';

describe('upsampleValues', () => {
  // The maps were upsampled by tf.image.resizeBilinear (half-pixel centres); the plain loop must give the same values.
  it('matches tf.image.resizeBilinear with half-pixel centres for the maps the CAMs upsample', async () => {
    await tf.setBackend('cpu');
    for (const [h, w, size] of [
      [7, 7, 224],
      [14, 14, 224],
      [28, 28, 224],
      [28, 28, 600],
      [3, 5, 17],
      [1, 1, 8],
    ]) {
      const values = Float32Array.from({ length: h * w }, (_, i) => Math.sin(i * 1.7) * 3 + (i % 5));
      const expected = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(values, [1, h, w, 1]), [size, size], false, true).dataSync() as Float32Array);
      const ours = upsampleValues(values, h, w, size);
      expect(ours.length).toBe(size * size);
      let worst = 0;
      for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - expected[i]));
      expect(worst, `${h}×${w} → ${size}`).toBeLessThan(1e-5);
    }
  });
});

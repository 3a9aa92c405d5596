// A cheaper gradient for FusedBatchNorm. tfjs-core's own tiles 1/sqrt(var) to the full activation shape
// before multiplying (a quarter of a training step on wasm); broadcasting and reducing first gives the
// same values with two full-size products instead of six.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';

export const fusedBatchNormGrad: GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const g = dy as Tensor;
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const [x, mean, variance, scale] = saved;
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const inv = tf.rsqrt(tf.add(variance, varianceEpsilon));
    const gamma = scale ?? tf.scalar(1);
    const reduce = (t: Tensor) => (axes.length ? tf.reshape(tf.sum(t, axes), mean.shape) : t);
    // Σ dy and Σ dy·(x − μ) over the batch and spatial axes: everything else derives from them.
    const sumDy = () => reduce(g);
    const sumDyCentered = () => reduce(tf.mul(g, tf.sub(x, mean)));
    return {
      x: () => tf.mul(g, tf.mul(gamma, inv)),
      mean: () => tf.mul(tf.neg(tf.mul(gamma, inv)), sumDy()),
      variance: () => tf.mul(tf.mul(tf.mul(tf.pow(inv, 3), gamma), -0.5), sumDyCentered()),
      scale: () => tf.mul(inv, sumDyCentered()),
      offset: () => sumDy(),
    };
  },
};

export function registerBatchNormGrad(): void {
  tf.registerGradient(fusedBatchNormGrad);
}

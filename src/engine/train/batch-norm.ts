// Batch-norm settings of a training run. Micro-batches of 4–8 images (all the 4 GB wasm heap takes at
// 160–224 px) give noisy batch statistics; fine-tuning at such sizes keeps every batch norm on its
// moving statistics ("frozen", as detection frameworks do with small batches) after re-estimating them
// once at the new resolution, while scale and offset still train.
import * as tf from '@tensorflow/tfjs';

const isBatchNorm = (layer: tf.layers.Layer) => layer.getClassName() === 'BatchNormalization';

type BatchNormLayer = tf.layers.Layer & { momentum: number; call: (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[] };

/** Sets the moving-average momentum of every batch-norm layer (a training setting, not a weight). */
export function setBatchNormMomentum(model: tf.LayersModel, momentum: number): void {
  for (const layer of model.layers) if (isBatchNorm(layer)) (layer as BatchNormLayer).momentum = momentum;
}

/** Every batch norm normalises with its moving statistics, also in training mode; they no longer move. */
export function freezeBatchNorm(model: tf.LayersModel): number {
  let n = 0;
  for (const layer of model.layers) {
    if (!isBatchNorm(layer)) continue;
    const bn = layer as BatchNormLayer;
    const call = bn.call.bind(bn);
    bn.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
    n++;
  }
  return n;
}

/**
 * Re-estimates the moving statistics as the plain mean of the batch statistics of `batches` (forward
 * passes in training mode, no gradients): momentum k/(k+1) at the k-th batch makes the moving average
 * an exact running mean. Call before freezeBatchNorm. Disposes each batch; restores the momentum it found.
 */
export async function recalibrateBatchNorm(model: tf.LayersModel, batches: AsyncIterable<tf.Tensor> | Iterable<tf.Tensor>): Promise<number> {
  const layers = model.layers.filter(isBatchNorm) as BatchNormLayer[];
  const momentum = layers.map((l) => l.momentum);
  let k = 0;
  try {
    for await (const x of batches) {
      for (const l of layers) l.momentum = k / (k + 1);
      tf.tidy(() => {
        model.apply(x, { training: true });
      });
      x.dispose();
      k++;
    }
  } finally {
    layers.forEach((l, i) => (l.momentum = momentum[i]));
  }
  return k;
}

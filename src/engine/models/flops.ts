// FLOPs of one forward pass (one image): 2 × multiply-adds of the convolution and dense layers,
// the usual convention for EfficientNet's "0.39 B FLOPs" (which counts multiply-adds once).
import type * as tf from '@tensorflow/tfjs';

function shapeOf(t: tf.SymbolicTensor | tf.SymbolicTensor[]): number[] {
  return (Array.isArray(t) ? t[0] : t).shape as number[];
}

export function forwardFlops(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D' && cls !== 'Dense') continue;
    const config = layer.getConfig() as { kernelSize?: number | number[]; filters?: number; depthMultiplier?: number; units?: number };
    const input = shapeOf(layer.input as tf.SymbolicTensor);
    const output = shapeOf(layer.output as tf.SymbolicTensor);
    if (cls === 'Dense') {
      flops += 2 * input[input.length - 1] * (config.units ?? 0);
      continue;
    }
    const k = Array.isArray(config.kernelSize) ? config.kernelSize : [config.kernelSize ?? 1, config.kernelSize ?? 1];
    const positions = output[1] * output[2];
    const cin = input[3];
    flops += cls === 'Conv2D' ? 2 * positions * k[0] * k[1] * cin * (config.filters ?? 0) : 2 * positions * k[0] * k[1] * cin * (config.depthMultiplier ?? 1);
  }
  return flops;
}

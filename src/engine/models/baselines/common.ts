// Shared pieces of the baseline networks, with Keras's layer names and defaults.
import * as tf from '@tensorflow/tfjs';

export type ST = tf.SymbolicTensor;

export const apply = (layer: tf.layers.Layer, x: ST | ST[]): ST => layer.apply(x) as ST;

export function conv(x: ST, filters: number, kernel: number | [number, number], name: string, opts: { strides?: number; padding?: 'same' | 'valid'; useBias?: boolean; activation?: 'relu' | 'linear' } = {}): ST {
  return apply(
    tf.layers.conv2d({ filters, kernelSize: kernel, strides: opts.strides ?? 1, padding: opts.padding ?? 'same', useBias: opts.useBias ?? true, activation: opts.activation ?? 'linear', kernelInitializer: 'heNormal', name }),
    x,
  );
}

/**
 * tfjs-layers' BatchNormalization reads its gamma in training even when `scale: false` (it has none)
 * and throws. Keras's InceptionResNetV2 uses scale-free batch norm, so for those layers a constant
 * gamma of ones stands in, read only by the training path: no weight is added, counts stay Keras's.
 */
export function scaleFreeBatchNorm(args: { name: string; epsilon: number }): tf.layers.Layer {
  const layer = tf.layers.batchNormalization({ axis: -1, epsilon: args.epsilon, scale: false, name: args.name });
  const build = layer.build.bind(layer);
  layer.build = (shape: tf.Shape | tf.Shape[]) => {
    build(shape);
    const channels = (shape as number[])[(shape as number[]).length - 1];
    const ones = tf.keep(tf.ones([channels]));
    (layer as unknown as { gamma: { read(): tf.Tensor } }).gamma = { read: () => ones };
  };
  return layer;
}

export function bn(x: ST, name: string, opts: { epsilon?: number; scale?: boolean } = {}): ST {
  if (opts.scale === false) return apply(scaleFreeBatchNorm({ name, epsilon: opts.epsilon ?? 1.001e-5 }), x);
  return apply(tf.layers.batchNormalization({ axis: -1, epsilon: opts.epsilon ?? 1.001e-5, name }), x);
}

export const relu = (x: ST, name: string): ST => apply(tf.layers.activation({ activation: 'relu', name }), x);

export const pad = (x: ST, p: number, name: string): ST => apply(tf.layers.zeroPadding2d({ padding: [[p, p], [p, p]], name }), x);

export const maxPool = (x: ST, size: number, strides: number, name: string, padding: 'same' | 'valid' = 'valid'): ST =>
  apply(tf.layers.maxPooling2d({ poolSize: size, strides, padding, name }), x);

export const avgPool = (x: ST, size: number, strides: number, name: string, padding: 'same' | 'valid' = 'valid'): ST =>
  apply(tf.layers.averagePooling2d({ poolSize: size, strides, padding, name }), x);

export const concat = (xs: ST[], name: string): ST => apply(tf.layers.concatenate({ axis: -1, name }), xs);

export const add = (xs: ST[], name: string): ST => apply(tf.layers.add({ name }), xs);

export const channels = (x: ST) => x.shape[x.shape.length - 1] as number;

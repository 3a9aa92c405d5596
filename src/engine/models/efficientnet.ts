// EfficientNet-B0…B7 generated from one block-argument table and the compound-scaling coefficients,
// as keras.applications.efficientnet builds them (Tan & Le 2019), with Keras's layer names so that
// Keras weight files load by name.
import * as tf from '@tensorflow/tfjs';
import { Normalization } from './normalization.js';

export interface BlockArgs {
  kernelSize: number;
  repeats: number;
  filtersIn: number;
  filtersOut: number;
  expandRatio: number;
  idSkip: boolean;
  strides: number;
  seRatio: number;
}

/** Keras's DEFAULT_BLOCKS_ARGS: the seven stages of EfficientNet-B0. */
export const BLOCKS_ARGS: readonly BlockArgs[] = [
  { kernelSize: 3, repeats: 1, filtersIn: 32, filtersOut: 16, expandRatio: 1, idSkip: true, strides: 1, seRatio: 0.25 },
  { kernelSize: 3, repeats: 2, filtersIn: 16, filtersOut: 24, expandRatio: 6, idSkip: true, strides: 2, seRatio: 0.25 },
  { kernelSize: 5, repeats: 2, filtersIn: 24, filtersOut: 40, expandRatio: 6, idSkip: true, strides: 2, seRatio: 0.25 },
  { kernelSize: 3, repeats: 3, filtersIn: 40, filtersOut: 80, expandRatio: 6, idSkip: true, strides: 2, seRatio: 0.25 },
  { kernelSize: 5, repeats: 3, filtersIn: 80, filtersOut: 112, expandRatio: 6, idSkip: true, strides: 1, seRatio: 0.25 },
  { kernelSize: 5, repeats: 4, filtersIn: 112, filtersOut: 192, expandRatio: 6, idSkip: true, strides: 2, seRatio: 0.25 },
  { kernelSize: 3, repeats: 1, filtersIn: 192, filtersOut: 320, expandRatio: 6, idSkip: true, strides: 1, seRatio: 0.25 },
];

export interface Scaling {
  width: number;
  depth: number;
  resolution: number;
  dropout: number;
}

/** Compound-scaling coefficients per variant: width, depth, default resolution, top dropout. */
export const VARIANTS = {
  b0: { width: 1.0, depth: 1.0, resolution: 224, dropout: 0.2 },
  b1: { width: 1.0, depth: 1.1, resolution: 240, dropout: 0.2 },
  b2: { width: 1.1, depth: 1.2, resolution: 260, dropout: 0.3 },
  b3: { width: 1.2, depth: 1.4, resolution: 300, dropout: 0.3 },
  b4: { width: 1.4, depth: 1.8, resolution: 380, dropout: 0.4 },
  b5: { width: 1.6, depth: 2.2, resolution: 456, dropout: 0.4 },
  b6: { width: 1.8, depth: 2.6, resolution: 528, dropout: 0.5 },
  b7: { width: 2.0, depth: 3.1, resolution: 600, dropout: 0.5 },
} as const satisfies Record<string, Scaling>;

export type Variant = keyof typeof VARIANTS;
export const VARIANT_NAMES = Object.keys(VARIANTS) as Variant[];

export function isVariant(v: string): v is Variant {
  return v in VARIANTS;
}

const DROP_CONNECT_RATE = 0.2;
const DIVISOR = 8;

/** Keras's round_filters: scale by width and round to a multiple of 8, never more than 10% down. */
export function roundFilters(filters: number, width: number, divisor = DIVISOR): number {
  const scaled = filters * width;
  let rounded = Math.max(divisor, Math.floor((scaled + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * scaled) rounded += divisor;
  return Math.trunc(rounded);
}

/** Keras's round_repeats. */
export function roundRepeats(repeats: number, depth: number): number {
  return Math.ceil(depth * repeats);
}

/** Keras's imagenet_utils.correct_pad for a stride-2 'valid' convolution. */
function correctPad(size: number, kernel: number): [number, number] {
  const adjust = 1 - (size % 2);
  const half = Math.floor(kernel / 2);
  return [half - adjust, half];
}

export interface BackboneOptions {
  variant: Variant;
  /** Input side in pixels; the variant's own resolution when omitted. */
  inputSize?: number;
  /**
   * 'imagenet' adds Keras's Normalization layer (input in [0,1] → ImageNet mean/std), as the Keras
   * weights expect; 'none' feeds [0,1] straight into the stem.
   */
  preprocessing?: 'imagenet' | 'none';
  /** Stochastic depth rate of the deepest block (Keras: 0.2). */
  dropConnectRate?: number;
  seed?: number;
}

export interface Backbone {
  input: tf.SymbolicTensor;
  /** The output of `top_activation`: the last feature map, used by CAM and Grad-CAM. */
  features: tf.SymbolicTensor;
  scaling: Scaling;
}

/** Builds the EfficientNet backbone without its top, ending at `top_activation`. */
export function efficientNetBackbone(opts: BackboneOptions): Backbone {
  const scaling = VARIANTS[opts.variant];
  const size = opts.inputSize ?? scaling.resolution;
  const dropConnect = opts.dropConnectRate ?? DROP_CONNECT_RATE;
  const filters = (f: number) => roundFilters(f, scaling.width);
  // One initializer per layer: a single seeded initializer would give every layer of the same shape the
  // same weights (tfjs restarts the generator from the seed on each call).
  let layerSeed = opts.seed ?? 0;
  const kernelInitializer = (): ReturnType<typeof tf.initializers.varianceScaling> =>
    tf.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'truncatedNormal', seed: opts.seed === undefined ? undefined : layerSeed++ });

  const input = tf.input({ shape: [size, size, 3], name: 'input_layer' });
  let x: tf.SymbolicTensor = input;
  if ((opts.preprocessing ?? 'imagenet') === 'imagenet') {
    x = new Normalization({ name: 'normalization' }).apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.zeroPadding2d({ padding: [correctPad(size, 3), correctPad(size, 3)], name: 'stem_conv_pad' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: filters(32), kernelSize: 3, strides: 2, padding: 'valid', useBias: false, kernelInitializer: kernelInitializer(), name: 'stem_conv' }).apply(x) as tf.SymbolicTensor;
  x = batchNorm('stem_bn', x);
  x = tf.layers.activation({ activation: 'swish', name: 'stem_activation' }).apply(x) as tf.SymbolicTensor;

  const totalBlocks = BLOCKS_ARGS.reduce((n, a) => n + roundRepeats(a.repeats, scaling.depth), 0);
  let blockIndex = 0;
  BLOCKS_ARGS.forEach((stage, i) => {
    const repeats = roundRepeats(stage.repeats, scaling.depth);
    for (let j = 0; j < repeats; j++) {
      const args = {
        ...stage,
        filtersIn: j === 0 ? filters(stage.filtersIn) : filters(stage.filtersOut),
        filtersOut: filters(stage.filtersOut),
        strides: j === 0 ? stage.strides : 1,
      };
      x = mbConvBlock(x, args, (dropConnect * blockIndex) / totalBlocks, `block${i + 1}${String.fromCharCode(97 + j)}_`, kernelInitializer);
      blockIndex++;
    }
  });

  x = tf.layers.conv2d({ filters: filters(1280), kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: kernelInitializer(), name: 'top_conv' }).apply(x) as tf.SymbolicTensor;
  x = batchNorm('top_bn', x);
  const features = tf.layers.activation({ activation: 'swish', name: 'top_activation' }).apply(x) as tf.SymbolicTensor;
  return { input, features, scaling };
}

function batchNorm(name: string, x: tf.SymbolicTensor): tf.SymbolicTensor {
  // Keras defaults: momentum 0.99, epsilon 1e-3.
  return tf.layers.batchNormalization({ axis: -1, momentum: 0.99, epsilon: 1e-3, name }).apply(x) as tf.SymbolicTensor;
}

/** The mobile inverted bottleneck block with squeeze-and-excitation (Keras's `block`). */
function mbConvBlock(
  inputs: tf.SymbolicTensor,
  args: BlockArgs,
  dropRate: number,
  name: string,
  kernelInitializer: () => ReturnType<typeof tf.initializers.varianceScaling>,
): tf.SymbolicTensor {
  const filters = args.filtersIn * args.expandRatio;
  let x = inputs;
  if (args.expandRatio !== 1) {
    x = tf.layers.conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: kernelInitializer(), name: `${name}expand_conv` }).apply(x) as tf.SymbolicTensor;
    x = batchNorm(`${name}expand_bn`, x);
    x = tf.layers.activation({ activation: 'swish', name: `${name}expand_activation` }).apply(x) as tf.SymbolicTensor;
  }
  let padding: 'same' | 'valid' = 'same';
  if (args.strides === 2) {
    const side = x.shape[1] as number;
    x = tf.layers.zeroPadding2d({ padding: [correctPad(side, args.kernelSize), correctPad(side, args.kernelSize)], name: `${name}dwconv_pad` }).apply(x) as tf.SymbolicTensor;
    padding = 'valid';
  }
  x = tf.layers.depthwiseConv2d({ kernelSize: args.kernelSize, strides: args.strides, padding, useBias: false, depthwiseInitializer: kernelInitializer(), name: `${name}dwconv` }).apply(x) as tf.SymbolicTensor;
  x = batchNorm(`${name}bn`, x);
  x = tf.layers.activation({ activation: 'swish', name: `${name}activation` }).apply(x) as tf.SymbolicTensor;

  if (args.seRatio > 0 && args.seRatio <= 1) {
    const filtersSe = Math.max(1, Math.trunc(args.filtersIn * args.seRatio));
    let se = tf.layers.globalAveragePooling2d({ name: `${name}se_squeeze` }).apply(x) as tf.SymbolicTensor;
    se = tf.layers.reshape({ targetShape: [1, 1, filters], name: `${name}se_reshape` }).apply(se) as tf.SymbolicTensor;
    se = tf.layers.conv2d({ filters: filtersSe, kernelSize: 1, padding: 'same', activation: 'swish', kernelInitializer: kernelInitializer(), name: `${name}se_reduce` }).apply(se) as tf.SymbolicTensor;
    se = tf.layers.conv2d({ filters, kernelSize: 1, padding: 'same', activation: 'sigmoid', kernelInitializer: kernelInitializer(), name: `${name}se_expand` }).apply(se) as tf.SymbolicTensor;
    x = tf.layers.multiply({ name: `${name}se_excite` }).apply([x, se]) as tf.SymbolicTensor;
  }
  x = tf.layers.conv2d({ filters: args.filtersOut, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: kernelInitializer(), name: `${name}project_conv` }).apply(x) as tf.SymbolicTensor;
  x = batchNorm(`${name}project_bn`, x);
  if (args.idSkip && args.strides === 1 && args.filtersIn === args.filtersOut) {
    if (dropRate > 0) {
      // Stochastic depth: the whole residual branch is dropped per sample.
      x = tf.layers.dropout({ rate: dropRate, noiseShape: [null, 1, 1, 1] as unknown as number[], name: `${name}drop` }).apply(x) as tf.SymbolicTensor;
    }
    x = tf.layers.add({ name: `${name}add` }).apply([x, inputs]) as tf.SymbolicTensor;
  }
  return x;
}

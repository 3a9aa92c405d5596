// EfficientNet-B0…B7, EfficientNet-Lite0…Lite4 and MobileNetV2 generated from block-argument tables and
// the compound-scaling coefficients, as keras.applications.efficientnet builds them (Tan & Le 2019), with
// Keras's layer names so that Keras weight files load by name.
//
// The mobile families (Lite, MobileNetV2) come from TFLite files in which batch norm is folded into the
// convolutions: their convolutions carry a bias and there is no batch-norm layer in the backbone.
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

/** EfficientNet-Lite (Google's efficientnet_lite_builder): B0's stages without squeeze-excitation. */
export const LITE_BLOCKS_ARGS: readonly BlockArgs[] = BLOCKS_ARGS.map((a) => ({ ...a, seRatio: 0 }));

/** MobileNetV2 1.0 (Sandler et al. 2018, Table 2): t, c, n, s as expand ratio, filters, repeats, strides. */
export const MOBILENET_V2_BLOCKS_ARGS: readonly BlockArgs[] = [
  { kernelSize: 3, repeats: 1, filtersIn: 32, filtersOut: 16, expandRatio: 1, idSkip: true, strides: 1, seRatio: 0 },
  { kernelSize: 3, repeats: 2, filtersIn: 16, filtersOut: 24, expandRatio: 6, idSkip: true, strides: 2, seRatio: 0 },
  { kernelSize: 3, repeats: 3, filtersIn: 24, filtersOut: 32, expandRatio: 6, idSkip: true, strides: 2, seRatio: 0 },
  { kernelSize: 3, repeats: 4, filtersIn: 32, filtersOut: 64, expandRatio: 6, idSkip: true, strides: 2, seRatio: 0 },
  { kernelSize: 3, repeats: 3, filtersIn: 64, filtersOut: 96, expandRatio: 6, idSkip: true, strides: 1, seRatio: 0 },
  { kernelSize: 3, repeats: 3, filtersIn: 96, filtersOut: 160, expandRatio: 6, idSkip: true, strides: 2, seRatio: 0 },
  { kernelSize: 3, repeats: 1, filtersIn: 160, filtersOut: 320, expandRatio: 6, idSkip: true, strides: 1, seRatio: 0 },
];

/** What sets a family apart besides its block table. */
export interface Family {
  blocks: readonly BlockArgs[];
  activation: 'swish' | 'relu6';
  /** folded: convolutions carry a bias and no batch norm follows (TFLite files fold it in). */
  batchNorm: 'layers' | 'folded';
  /** Lite keeps the 32-filter stem and 1280-filter head at every width. */
  scaleStemHead: boolean;
  /** Lite keeps one block in the first and last stage at every depth. */
  scaleFirstLastRepeats: boolean;
}

export const FAMILIES = {
  b: { blocks: BLOCKS_ARGS, activation: 'swish', batchNorm: 'layers', scaleStemHead: true, scaleFirstLastRepeats: true },
  lite: { blocks: LITE_BLOCKS_ARGS, activation: 'relu6', batchNorm: 'folded', scaleStemHead: false, scaleFirstLastRepeats: false },
  mobilenetv2: { blocks: MOBILENET_V2_BLOCKS_ARGS, activation: 'relu6', batchNorm: 'folded', scaleStemHead: false, scaleFirstLastRepeats: false },
} as const satisfies Record<string, Family>;

export interface Scaling {
  family: keyof typeof FAMILIES;
  width: number;
  depth: number;
  resolution: number;
  dropout: number;
}

/** Compound-scaling coefficients per variant: width, depth, default resolution, top dropout. */
export const VARIANTS = {
  b0: { family: 'b', width: 1.0, depth: 1.0, resolution: 224, dropout: 0.2 },
  b1: { family: 'b', width: 1.0, depth: 1.1, resolution: 240, dropout: 0.2 },
  b2: { family: 'b', width: 1.1, depth: 1.2, resolution: 260, dropout: 0.3 },
  b3: { family: 'b', width: 1.2, depth: 1.4, resolution: 300, dropout: 0.3 },
  b4: { family: 'b', width: 1.4, depth: 1.8, resolution: 380, dropout: 0.4 },
  b5: { family: 'b', width: 1.6, depth: 2.2, resolution: 456, dropout: 0.4 },
  b6: { family: 'b', width: 1.8, depth: 2.6, resolution: 528, dropout: 0.5 },
  b7: { family: 'b', width: 2.0, depth: 3.1, resolution: 600, dropout: 0.5 },
  lite0: { family: 'lite', width: 1.0, depth: 1.0, resolution: 224, dropout: 0.2 },
  lite1: { family: 'lite', width: 1.0, depth: 1.1, resolution: 240, dropout: 0.2 },
  lite2: { family: 'lite', width: 1.1, depth: 1.2, resolution: 260, dropout: 0.3 },
  lite3: { family: 'lite', width: 1.2, depth: 1.4, resolution: 280, dropout: 0.3 },
  lite4: { family: 'lite', width: 1.4, depth: 1.8, resolution: 300, dropout: 0.3 },
  mobilenetv2: { family: 'mobilenetv2', width: 1.0, depth: 1.0, resolution: 224, dropout: 0.2 },
} as const satisfies Record<string, Scaling>;

/** The input scaling each family's ImageNet weights expect: Keras's B models ImageNet mean/std, TFLite's [-1, 1]. */
export function defaultPreprocessing(variant: Variant): 'imagenet' | 'tf' {
  return VARIANTS[variant].family === 'b' ? 'imagenet' : 'tf';
}

export type Variant = keyof typeof VARIANTS;
export const VARIANT_NAMES = Object.keys(VARIANTS) as Variant[];

export function isVariant(v: string): v is Variant {
  return Object.hasOwn(VARIANTS, v);
}

export type Preprocessing = 'imagenet' | 'tf' | 'none';

/** The Normalization layer for a preprocessing mode, or none. */
export function inputNormalization(mode: Preprocessing): Normalization | null {
  if (mode === 'imagenet') return new Normalization({ name: 'normalization' });
  if (mode === 'tf') return new Normalization({ name: 'normalization', mean: [0.5, 0.5, 0.5], variance: [0.25, 0.25, 0.25] });
  return null;
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
   * weights expect; 'tf' maps [0,1] to [-1,1], as the TFLite weights expect; 'none' feeds [0,1] straight
   * into the stem.
   */
  preprocessing?: Preprocessing;
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

/** Builds the backbone without its top, ending at `top_activation`. */
export function efficientNetBackbone(opts: BackboneOptions): Backbone {
  const scaling = VARIANTS[opts.variant];
  const family: Family = FAMILIES[scaling.family];
  const size = opts.inputSize ?? scaling.resolution;
  const dropConnect = opts.dropConnectRate ?? DROP_CONNECT_RATE;
  const filters = (f: number) => roundFilters(f, scaling.width);
  const fixedFilters = (f: number) => (family.scaleStemHead ? filters(f) : f);
  // One initializer per layer: a single seeded initializer would give every layer of the same shape the
  // same weights (tfjs restarts the generator from the seed on each call).
  let layerSeed = opts.seed ?? 0;
  const kernelInitializer = (): ReturnType<typeof tf.initializers.varianceScaling> =>
    tf.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'truncatedNormal', seed: opts.seed === undefined ? undefined : layerSeed++ });
  const layers = new LayerKit(family, kernelInitializer);

  const input = tf.input({ shape: [size, size, 3], name: 'input_layer' });
  let x: tf.SymbolicTensor = input;
  const normalization = inputNormalization(opts.preprocessing ?? defaultPreprocessing(opts.variant));
  if (normalization) x = normalization.apply(x) as tf.SymbolicTensor;
  x = tf.layers.zeroPadding2d({ padding: [correctPad(size, 3), correctPad(size, 3)], name: 'stem_conv_pad' }).apply(x) as tf.SymbolicTensor;
  x = layers.conv(x, { filters: fixedFilters(32), kernelSize: 3, strides: 2, padding: 'valid', name: 'stem_conv' });
  x = layers.normActivate(x, 'stem_bn', 'stem_activation');

  const stages = family.blocks.map((stage, i) => {
    const firstOrLast = i === 0 || i === family.blocks.length - 1;
    return { stage, repeats: firstOrLast && !family.scaleFirstLastRepeats ? stage.repeats : roundRepeats(stage.repeats, scaling.depth) };
  });
  const totalBlocks = stages.reduce((n, s) => n + s.repeats, 0);
  let blockIndex = 0;
  stages.forEach(({ stage, repeats }, i) => {
    for (let j = 0; j < repeats; j++) {
      const filtersIn = i === 0 && j === 0 ? fixedFilters(stage.filtersIn) : j === 0 ? filters(stage.filtersIn) : filters(stage.filtersOut);
      const args = { ...stage, filtersIn, filtersOut: filters(stage.filtersOut), strides: j === 0 ? stage.strides : 1 };
      x = mbConvBlock(x, args, (dropConnect * blockIndex) / totalBlocks, `block${i + 1}${String.fromCharCode(97 + j)}_`, layers);
      blockIndex++;
    }
  });

  x = layers.conv(x, { filters: fixedFilters(1280), kernelSize: 1, padding: 'same', name: 'top_conv' });
  const features = layers.normActivate(x, 'top_bn', 'top_activation');
  return { input, features, scaling };
}

/** The family's convolution and "batch norm + activation", so that blocks read the same in every family. */
class LayerKit {
  constructor(
    readonly family: Family,
    readonly kernelInitializer: () => ReturnType<typeof tf.initializers.varianceScaling>,
  ) {}

  get folded(): boolean {
    return this.family.batchNorm === 'folded';
  }

  conv(x: tf.SymbolicTensor, args: { filters: number; kernelSize: number; strides?: number; padding: 'same' | 'valid'; name: string }): tf.SymbolicTensor {
    return tf.layers.conv2d({ ...args, useBias: this.folded, kernelInitializer: this.kernelInitializer() }).apply(x) as tf.SymbolicTensor;
  }

  depthwise(x: tf.SymbolicTensor, args: { kernelSize: number; strides: number; padding: 'same' | 'valid'; name: string }): tf.SymbolicTensor {
    return tf.layers.depthwiseConv2d({ ...args, useBias: this.folded, depthwiseInitializer: this.kernelInitializer() }).apply(x) as tf.SymbolicTensor;
  }

  /** Batch norm (unless folded), then the family's activation when `activationName` is given. */
  normActivate(x: tf.SymbolicTensor, bnName: string, activationName?: string): tf.SymbolicTensor {
    if (!this.folded) x = batchNorm(bnName, x);
    if (!activationName) return x;
    return tf.layers.activation({ activation: this.family.activation, name: activationName }).apply(x) as tf.SymbolicTensor;
  }
}

function batchNorm(name: string, x: tf.SymbolicTensor): tf.SymbolicTensor {
  // Keras defaults: momentum 0.99, epsilon 1e-3.
  return tf.layers.batchNormalization({ axis: -1, momentum: 0.99, epsilon: 1e-3, name }).apply(x) as tf.SymbolicTensor;
}

/** The mobile inverted bottleneck block, with squeeze-and-excitation where the table asks (Keras's `block`). */
function mbConvBlock(inputs: tf.SymbolicTensor, args: BlockArgs, dropRate: number, name: string, layers: LayerKit): tf.SymbolicTensor {
  const filters = args.filtersIn * args.expandRatio;
  let x = inputs;
  if (args.expandRatio !== 1) {
    x = layers.conv(x, { filters, kernelSize: 1, padding: 'same', name: `${name}expand_conv` });
    x = layers.normActivate(x, `${name}expand_bn`, `${name}expand_activation`);
  }
  let padding: 'same' | 'valid' = 'same';
  if (args.strides === 2) {
    const side = x.shape[1] as number;
    x = tf.layers.zeroPadding2d({ padding: [correctPad(side, args.kernelSize), correctPad(side, args.kernelSize)], name: `${name}dwconv_pad` }).apply(x) as tf.SymbolicTensor;
    padding = 'valid';
  }
  x = layers.depthwise(x, { kernelSize: args.kernelSize, strides: args.strides, padding, name: `${name}dwconv` });
  x = layers.normActivate(x, `${name}bn`, `${name}activation`);

  if (args.seRatio > 0 && args.seRatio <= 1) {
    const filtersSe = Math.max(1, Math.trunc(args.filtersIn * args.seRatio));
    let se = tf.layers.globalAveragePooling2d({ name: `${name}se_squeeze` }).apply(x) as tf.SymbolicTensor;
    se = tf.layers.reshape({ targetShape: [1, 1, filters], name: `${name}se_reshape` }).apply(se) as tf.SymbolicTensor;
    se = tf.layers.conv2d({ filters: filtersSe, kernelSize: 1, padding: 'same', activation: 'swish', kernelInitializer: layers.kernelInitializer(), name: `${name}se_reduce` }).apply(se) as tf.SymbolicTensor;
    se = tf.layers.conv2d({ filters, kernelSize: 1, padding: 'same', activation: 'sigmoid', kernelInitializer: layers.kernelInitializer(), name: `${name}se_expand` }).apply(se) as tf.SymbolicTensor;
    x = tf.layers.multiply({ name: `${name}se_excite` }).apply([x, se]) as tf.SymbolicTensor;
  }
  x = layers.conv(x, { filters: args.filtersOut, kernelSize: 1, padding: 'same', name: `${name}project_conv` });
  x = layers.normActivate(x, `${name}project_bn`);
  if (args.idSkip && args.strides === 1 && args.filtersIn === args.filtersOut) {
    if (dropRate > 0) {
      // Stochastic depth: the whole residual branch is dropped per sample.
      x = tf.layers.dropout({ rate: dropRate, noiseShape: [null, 1, 1, 1] as unknown as number[], name: `${name}drop` }).apply(x) as tf.SymbolicTensor;
    }
    x = tf.layers.add({ name: `${name}add` }).apply([x, inputs]) as tf.SymbolicTensor;
  }
  return x;
}

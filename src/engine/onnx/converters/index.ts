// The per-layer converters of the ONNX exporter, by tfjs class name: each turns one layer into ONNX
// nodes, returns the value of its output (or null when it set it itself) and registers its backward step.
import type { ExportContext, LayerInput } from '../export-context.js';
import type { Value } from '../export-types.js';
import { convolution } from './conv.js';
import { activation, batchNormalization, dropout, identity, inputLayer, normalization, zeroPadding } from './pointwise.js';
import { globalPooling, windowPooling } from './pooling.js';
import { addOrMultiply, concatenate, customScale, dense, flatten, reshape } from './shape.js';

export type Converter = (ctx: ExportContext, layer: LayerInput) => Value | null;

export const CONVERTERS: Record<string, Converter> = {
  InputLayer: inputLayer,
  Normalization: normalization,
  ZeroPadding2D: zeroPadding,
  Conv2D: convolution,
  DepthwiseConv2D: convolution,
  BatchNormalization: batchNormalization,
  Activation: activation,
  ReLU: activation,
  GlobalAveragePooling2D: globalPooling,
  GlobalMaxPooling2D: globalPooling,
  MaxPooling2D: windowPooling,
  AveragePooling2D: windowPooling,
  Reshape: reshape,
  Flatten: flatten,
  Add: addOrMultiply,
  Multiply: addOrMultiply,
  CustomScaleLayer: customScale,
  Concatenate: concatenate,
  Dropout: dropout,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  Dense: dense,
};

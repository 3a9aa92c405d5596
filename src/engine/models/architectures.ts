// Every backbone the project can build, by name: EfficientNet from its table, and the paper's baselines.
import * as tf from '@tensorflow/tfjs';
import { efficientNetBackbone, inputNormalization, isVariant, type Preprocessing } from './efficientnet.js';
import { alexnet } from './baselines/alexnet.js';
import { densenet121 } from './baselines/densenet121.js';
import { inceptionResNetV2 } from './baselines/inception-resnet-v2.js';
import { resnet50 } from './baselines/resnet50.js';
import { vgg19 } from './baselines/vgg19.js';

export const ARCHITECTURES = ['efficientnet', 'mobilenetv2', 'vgg19', 'resnet50', 'inceptionresnetv2', 'densenet121', 'alexnet'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

const BASELINES = { vgg19, resnet50, inceptionresnetv2: inceptionResNetV2, densenet121, alexnet } as const;

/** Display names, as in the paper's tables. */
export const DISPLAY_NAMES: Record<Architecture, string> = {
  efficientnet: 'EfficientNet',
  mobilenetv2: 'MobileNetV2',
  vgg19: 'VGG-19',
  resnet50: 'ResNet50',
  inceptionresnetv2: 'InceptionResNetV2',
  densenet121: 'DenseNet-121',
  alexnet: 'AlexNet',
};

export interface BackboneSpec {
  architecture: Architecture;
  /** EfficientNet's b0…b7 or lite0…lite4; ignored by the other architectures. */
  variant: string;
  inputSize: number;
  preprocessing: Preprocessing;
  seed?: number;
}

/** Input → the last feature map, for any architecture. */
export function backbone(spec: BackboneSpec): { input: tf.SymbolicTensor; features: tf.SymbolicTensor } {
  if (spec.architecture === 'efficientnet' || spec.architecture === 'mobilenetv2') {
    // MobileNetV2 is a row of the same block tables (efficientnet.ts).
    const variant = spec.architecture === 'mobilenetv2' ? 'mobilenetv2' : spec.variant;
    if (!isVariant(variant) || (spec.architecture === 'efficientnet' && variant === 'mobilenetv2')) throw new Error(`unknown EfficientNet variant "${spec.variant}"`);
    const b = efficientNetBackbone({ variant, inputSize: spec.inputSize, preprocessing: spec.preprocessing, seed: spec.seed });
    return { input: b.input, features: b.features };
  }
  const input = tf.input({ shape: [spec.inputSize, spec.inputSize, 3], name: 'input_layer' });
  const normalization = inputNormalization(spec.preprocessing);
  const x = normalization ? (normalization.apply(input) as tf.SymbolicTensor) : input;
  return { input, features: BASELINES[spec.architecture](x) };
}

/** "effnet-b0", "vgg19", … → architecture and variant. */
export function parseModelName(name: string): { architecture: Architecture; variant: string } {
  const m = name.match(/^(?:effnet|efficientnet)-?(b[0-7]|lite[0-4])$/i);
  if (m) return { architecture: 'efficientnet', variant: m[1].toLowerCase() };
  if (/^mobilenet-?v2$/i.test(name)) return { architecture: 'mobilenetv2', variant: 'mobilenetv2' };
  const arch = name.toLowerCase() as Architecture;
  if ((ARCHITECTURES as readonly string[]).includes(arch) && arch !== 'efficientnet') return { architecture: arch, variant: arch };
  throw new Error(`unknown model "${name}"; use effnet-b0…effnet-b7, effnet-lite0…effnet-lite4, ${ARCHITECTURES.filter((a) => a !== 'efficientnet').join(', ')}`);
}

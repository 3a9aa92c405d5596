// What a model is, as stored in a bundle manifest: enough to rebuild the exact graph.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { classNameSchema } from '../../core/class-name.js';
import { defaultPreprocessing, efficientNetBackbone, VARIANTS, type Preprocessing, type Variant } from './efficientnet.js';
import { ARCHITECTURES, backbone } from './architectures.js';
import { classificationHead, headSchema, PAPER_HEAD, type HeadSpec } from './head.js';

export const modelSpecSchema = z
  .object({
    architecture: z.enum(ARCHITECTURES),
    /** EfficientNet's b0…b7; for the baselines, the architecture's own name. */
    variant: z.string().min(1),
    inputSize: z.number().int().min(32).max(1024),
    /** imagenet: ImageNet mean/std (Keras's weights); tf: [-1, 1] (TFLite's); none: [0, 1]. */
    preprocessing: z.enum(['imagenet', 'tf', 'none']),
    classes: z.array(classNameSchema).min(2),
    head: headSchema,
  })
  .strict();
export type ModelSpec = z.infer<typeof modelSpecSchema>;

export function defaultSpec(variant: Variant, classes: string[], overrides: Partial<Omit<ModelSpec, 'head'>> & { head?: Partial<HeadSpec> } = {}): ModelSpec {
  return {
    architecture: overrides.architecture ?? 'efficientnet',
    variant: overrides.variant ?? variant,
    inputSize: overrides.inputSize ?? VARIANTS[variant].resolution,
    preprocessing: overrides.preprocessing ?? defaultPreprocessing(variant),
    classes,
    head: { ...PAPER_HEAD, ...overrides.head },
  };
}

export const FEATURE_LAYER = 'top_activation';

/** Builds an untrained (randomly initialised) classifier from its spec. */
export function buildModel(spec: ModelSpec, seed?: number): tf.LayersModel {
  const { input, features } = backbone({ ...spec, seed });
  const output = classificationHead(features, spec.classes.length, spec.head, seed);
  return tf.model({ inputs: input, outputs: output, name: `${spec.architecture}_${spec.variant}` });
}

/** The backbone alone (Keras's include_top=False), for parameter counts and feature extraction. */
export function buildBackbone(variant: Variant, inputSize?: number, preprocessing: Preprocessing = defaultPreprocessing(variant)): tf.LayersModel {
  const backbone = efficientNetBackbone({ variant, inputSize, preprocessing });
  return tf.model({ inputs: backbone.input, outputs: backbone.features, name: `${variant === 'mobilenetv2' ? 'mobilenetv2' : `efficientnet_${variant}`}_notop` });
}

import path from 'node:path';
import { positiveInt, UsageError, type Command } from './command.js';

export const importWeightsCommand: Command = {
  name: 'import-weights',
  usage: 'FILE.tflite|FILE.h5',
  summary: 'a bundle from ImageNet weights: a TFLite EfficientNet-Lite or MobileNetV2, or a Keras .h5 EfficientNet, with a new head',
  flags: {
    arch: { type: 'string', value: 'lite0…lite4|mobilenetv2', description: 'the network of a .tflite file' },
    variant: { type: 'string', value: 'b0…b7', description: 'the EfficientNet of a .h5 file' },
    out: { type: 'string', value: 'DIR', description: 'the bundle to write' },
    labels: { type: 'string', value: 'FILE', description: 'ImageNet labels, to keep the classifier of a full model' },
    classes: { type: 'string', value: 'a,b,…', description: 'the new head’s classes (default Benign,Early,Pre,Pro)' },
    'img-size': { type: 'string', value: 'N', description: 'input side in pixels' },
    pooling: { type: 'string', value: 'avg|max', description: 'the new head’s pooling' },
    dense: { type: 'string', value: 'N', description: 'the new head’s dense units' },
    dropout: { type: 'string', value: 'RATE', description: 'the new head’s dropout' },
  },
  async run({ values, args, config, out }) {
    const variant = (values.arch ?? values.variant) as string | undefined;
    if (args.length !== 1 || !variant || !values.out)
      throw new UsageError('import-weights needs one FILE.h5 with --variant b0…b7, or one FILE.tflite with --arch lite0…lite4|mobilenetv2, and --out DIR');
    const { runImportWeights } = await import('../headless/import-weights.js');
    const classes = String(values.classes ?? 'Benign,Early,Pre,Pro')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    const imgSize = values['img-size'] ? positiveInt(values['img-size'], '--img-size', 224) : undefined;
    const head = {
      ...(values.pooling ? { pooling: values.pooling === 'max' ? ('max' as const) : ('avg' as const) } : {}),
      ...(values.dense ? { denseUnits: Number(values.dense) } : {}),
      ...(values.dropout ? { dropout: Number(values.dropout) } : {}),
    };
    return runImportWeights(config, { file: args[0], variant, outDir: path.resolve(String(values.out)), imgSize, classes, labels: values.labels as string | undefined, head }, out);
  },
};

import { TRAIN_FLAGS } from '../headless/train-flags.js';
import { asUsage, type Command } from './command.js';

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a model bundle on class folders (the paper’s protocol; --init for transfer learning)',
  flags: TRAIN_FLAGS,
  async run({ values, config, out, argv }) {
    const { runTrain, trainOptionsFrom } = await import('../headless/train.js');
    const options = asUsage(() => trainOptionsFrom(values, config, argv));
    return runTrain(config, options, !!values.json, out);
  },
};

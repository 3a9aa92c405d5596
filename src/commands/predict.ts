import { positiveInt, UsageError, type Command } from './command.js';

export const predictCommand: Command = {
  name: 'predict',
  usage: '<files or folders…>',
  summary: 'classify images: one line each on stdout (text, JSON lines or CSV), rejected files with their reason',
  flags: {
    json: { type: 'boolean', description: 'one JSON object a line' },
    csv: { type: 'boolean', description: 'CSV with a header' },
    batch: { type: 'string', value: 'N', description: 'images per forward pass (default predict.batch)' },
  },
  async run({ values, args, config, out }) {
    if (!args.length) throw new UsageError('predict needs at least one file or folder');
    if (values.json && values.csv) throw new UsageError('choose one of --json and --csv');
    const { runPredict } = await import('../headless/predict.js');
    return runPredict(config, { paths: args, format: values.json ? 'json' : values.csv ? 'csv' : 'text', batch: positiveInt(values.batch, '--batch', config.predict.batch) }, out);
  },
};

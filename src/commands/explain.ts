import path from 'node:path';
import { asUsage, positiveInt, UsageError, type Command } from './command.js';
import { METHOD_NAMES } from '../core/explanation-methods.js';

const METHODS = METHOD_NAMES.join(',');

export const explainCommand: Command = {
  name: 'explain',
  usage: '<files or folders…>',
  summary: 'heatmaps of images as PNG overlays, with each method’s figures',
  flags: {
    methods: { type: 'string', value: METHODS, description: 'the methods (default explain.methods)' },
    out: { type: 'string', value: 'DIR', description: 'where the overlays go' },
  },
  async run({ values, args, config, out }) {
    if (!args.length || !values.out) throw new UsageError('explain needs files or folders and --out DIR');
    const { parseMethods, runExplain } = await import('../headless/explain.js');
    const methods = asUsage(() => parseMethods(values.methods as string | undefined, config.explain.methods));
    return runExplain(config, args, methods, path.resolve(String(values.out)), out);
  },
};

export const xaiEvalCommand: Command = {
  name: 'xai-eval',
  summary: 'explanation quality table: deletion, insertion, pointing game and mass in the cell against random maps',
  flags: {
    data: { type: 'string', value: 'DIR', description: 'class folders (the model’s test part of them is used)' },
    masks: { type: 'string', value: 'DIR', description: 'the same names with the cell cut out (taleqani-segmented)' },
    limit: { type: 'string', value: 'N', description: 'images (default 20)' },
    methods: { type: 'string', value: METHODS, description: 'the methods (default gradcam,cam,lime,ig)' },
    json: { type: 'boolean', description: 'the table as JSON' },
  },
  async run({ values, config, out }) {
    if (!values.data) throw new UsageError('xai-eval needs --data DIR (class folders)');
    const { parseMethods } = await import('../headless/explain.js');
    const { runXaiEval } = await import('../headless/xai-eval.js');
    const methods = asUsage(() => parseMethods(values.methods as string | undefined, ['gradcam', 'cam', 'lime', 'ig']));
    return runXaiEval(
      config,
      { dataDir: String(values.data), masksDir: (values.masks as string | undefined) ?? null, limit: positiveInt(values.limit, '--limit', 20), methods, json: !!values.json },
      out,
    );
  },
};

import path from 'node:path';
import { asUsage, positiveInt, UsageError, type Command } from './command.js';
import { METHOD_NAMES } from '../core/explanation-methods.js';

const METHODS = METHOD_NAMES.join(',');
/** xai-eval's methods when --methods is not given: the app's first map, the classic CAMs, LIME and IG. */
const XAI_EVAL_METHODS = ['layercam14', 'layercam28', 'ig14', 'gradcam', 'cam', 'lime', 'ig'] as const;

export const explainCommand: Command = {
  name: 'explain',
  usage: '<files or folders…>',
  summary: 'heatmaps of images as PNG overlays, with each method’s figures',
  flags: {
    methods: { type: 'string', value: METHODS, description: 'the methods (default explain.methods)' },
    out: { type: 'string', value: 'DIR', description: 'where the overlays go (an empty or new folder)' },
    force: { type: 'boolean', description: 'write into a folder that is not empty (same-named overlays are replaced)' },
  },
  async run({ values, args, config, out }) {
    if (!args.length || !values.out) throw new UsageError('explain needs files or folders and --out DIR');
    const { parseMethods, runExplain } = await import('../headless/explain.js');
    const methods = asUsage(() => parseMethods(values.methods as string | undefined, config.explain.methods));
    return runExplain(config, args, methods, path.resolve(String(values.out)), out, !!values.force);
  },
};

export const xaiEvalCommand: Command = {
  name: 'xai-eval',
  summary: 'explanation quality table: deletion, insertion, pointing game and mass in the cell against random maps',
  flags: {
    data: { type: 'string', value: 'DIR', description: 'class folders (the model’s held-out part of them is used, see --part)' },
    masks: { type: 'string', value: 'DIR', description: 'the same names with the cell cut out (taleqani-segmented)' },
    limit: { type: 'string', value: 'N', description: 'images (default 20)' },
    part: { type: 'string', value: 'test|val', description: 'the held-out part to use: test (default), or val to choose a method without the test part' },
    methods: { type: 'string', value: METHODS, description: `the methods (default ${XAI_EVAL_METHODS.join(',')})` },
    json: { type: 'boolean', description: 'the table as JSON' },
  },
  async run({ values, config, out }) {
    if (!values.data) throw new UsageError('xai-eval needs --data DIR (class folders)');
    const { parseMethods } = await import('../headless/explain.js');
    const { runXaiEval } = await import('../headless/xai-eval.js');
    const methods = asUsage(() => parseMethods(values.methods as string | undefined, [...XAI_EVAL_METHODS]));
    const part = (values.part as string | undefined) ?? 'test';
    if (part !== 'test' && part !== 'val') throw new UsageError(`--part takes test or val, not "${part}"`);
    return runXaiEval(
      config,
      { dataDir: String(values.data), masksDir: (values.masks as string | undefined) ?? null, limit: positiveInt(values.limit, '--limit', 20), part, methods, json: !!values.json },
      out,
    );
  },
};

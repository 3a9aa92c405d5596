// Model versions: retrain from the confirmed labels, list, score, promote and roll back.
import path from 'node:path';
import { positiveInt, UsageError, type Command } from './command.js';
import { ADAPT_MAX_SLIDES, ADAPT_MIN_SLIDES } from '../services/adapt-limits.js';

export const retrainCommand: Command = {
  name: 'retrain',
  summary: 'a new model version from the store’s confirmed labels, compared with the current model on held-out labels',
  flags: {
    mode: { type: 'string', value: 'head|full', description: 'the head on cached features, or every layer', default: 'head' },
    base: { type: 'string', value: 'DIR', description: 'class folders to train on besides the labels' },
    classes: { type: 'string', value: 'a,b,…', description: 'the classes (default the model’s)' },
    epochs: { type: 'string', value: 'N', description: 'epochs (default by mode)' },
    'held-out': { type: 'string', value: 'FRACTION', description: 'labels kept out to compare the two models on', default: '0.25' },
    seed: { type: 'string', value: 'N', description: 'the seed', default: '42' },
    json: { type: 'boolean', description: 'the result as JSON' },
  },
  async run({ values, config, out }) {
    const mode = (values.mode as string | undefined) ?? 'head';
    if (mode !== 'head' && mode !== 'full') throw new UsageError(`--mode must be head or full, got "${mode}"`);
    const heldOut = values['held-out'] === undefined ? 0.25 : Number(values['held-out']);
    if (!(heldOut >= 0 && heldOut < 1)) throw new UsageError(`--held-out must be a fraction from 0 to below 1, got "${String(values['held-out'])}"`);
    const { runRetrain } = await import('../headless/retrain.js');
    return runRetrain(
      config,
      {
        mode,
        baseDataDir: values.base ? path.resolve(String(values.base)) : null,
        classes: values.classes
          ? String(values.classes)
              .split(',')
              .map((c) => c.trim())
              .filter(Boolean)
          : null,
        epochs: values.epochs === undefined ? null : positiveInt(values.epochs, '--epochs', 1),
        heldOutFraction: heldOut,
        seed: values.seed === undefined ? 42 : Number(values.seed),
        json: !!values.json,
      },
      out,
    );
  },
};

export const adaptCommand: Command = {
  name: 'adapt',
  summary: 'a new model version adapted to this lab from its own unlabelled slides (colour, and what counts as unusual)',
  flags: {
    images: { type: 'string', value: 'DIR', description: 'the lab’s slides to adapt on (default: the incoming folder’s)' },
    'min-slides': { type: 'string', value: 'N', description: 'refuse with fewer readable slides', default: '40' },
    'max-slides': { type: 'string', value: 'N', description: 'read at most this many, spread over the folder', default: '400' },
    colour: { type: 'string', value: 'on|off', description: 'align the lab’s colour to the training images’', default: 'on' },
    json: { type: 'boolean', description: 'the result as JSON' },
  },
  async run({ values, config, out }) {
    const colour = (values.colour as string | undefined) ?? 'on';
    if (colour !== 'on' && colour !== 'off') throw new UsageError(`--colour must be on or off, got "${colour}"`);
    const minSlides = positiveInt(values['min-slides'], '--min-slides', ADAPT_MIN_SLIDES);
    const maxSlides = positiveInt(values['max-slides'], '--max-slides', ADAPT_MAX_SLIDES);
    if (maxSlides < minSlides) throw new UsageError(`--max-slides (${maxSlides}) is below --min-slides (${minSlides})`);
    let files: string[] | null = null;
    if (values.images !== undefined) {
      const { expandPaths } = await import('../headless/files.js');
      const expanded = await expandPaths([path.resolve(String(values.images))]);
      if (expanded.missing.length) throw new UsageError(`--images: ${expanded.missing.map((m) => `${m.path}: ${m.reason}`).join('; ')}`);
      files = expanded.files;
    }
    const { runAdapt } = await import('../headless/adapt.js');
    return runAdapt(config, { files, minSlides, maxSlides, colour: colour === 'on', json: !!values.json }, out);
  },
};

export const modelsCommand: Command = {
  name: 'models',
  usage: '[list|evaluate|promote V|rollback V]',
  summary: 'the model versions and the current one; score them on the confirmed labels; switch',
  flags: {},
  async run({ args, config, defaultModel, out }) {
    const { runModels } = await import('../headless/retrain.js');
    return runModels(config, defaultModel, args, out);
  },
};

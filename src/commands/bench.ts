// The paper's model comparison, and forward-pass timings.
import path from 'node:path';
import { asUsage, positiveInt, UsageError, type Command } from './command.js';

const MODELS = 'effnet-b0,vgg19,resnet50,inceptionresnetv2,densenet121,alexnet';

export const benchCommand: Command = {
  name: 'bench',
  summary: 'the paper’s comparison: each model trained and scored on the same split (tables, ROC and confusion charts)',
  flags: {
    data: { type: 'string', value: 'DIR', description: 'class folders' },
    models: { type: 'string', value: 'A,B,…', description: 'the models', default: MODELS },
    'img-size': { type: 'string', value: 'N', description: 'input side in pixels', default: '128' },
    epochs: { type: 'string', value: 'N', description: 'epochs each', default: '10' },
    batch: { type: 'string', value: 'N', description: 'images a step', default: '32' },
    lr: { type: 'string', value: 'RATE', description: 'Adamax learning rate (the paper’s 0.001)', default: '0.001' },
    limit: { type: 'string', value: 'N', description: 'images a class' },
    out: { type: 'string', value: 'DIR', description: 'where results go (default benchResults)' },
    'negative-class': { type: 'string', value: 'NAME', description: 'the class that counts as negative for binary figures' },
    split: { type: 'string', value: 'blocks|file:PATH', description: 'the split: blocks of neighbouring files, or a split.json (e.g. the default model’s)', default: 'blocks' },
    init: { type: 'string', multiple: true, value: 'MODEL=BUNDLE', description: 'start MODEL from a bundle’s weights (e.g. ImageNet: effnet-lite0=models/imagenet-lite0)' },
  },
  async run({ values, config, out }) {
    if (!values.data) throw new UsageError('bench needs --data DIR (class folders)');
    const { runBench } = await import('../bench/run-bench.js');
    const { parseModelName } = await import('../engine/models/architectures.js');
    const models = String(values.models ?? MODELS)
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    asUsage(() => models.forEach(parseModelName));
    const init = initBundles((values.init as string[] | undefined) ?? [], models);
    const split = String(values.split ?? 'blocks');
    if (split !== 'blocks' && !split.startsWith('file:')) throw new UsageError('--split takes blocks or file:PATH');
    const o = {
      dataDir: path.resolve(String(values.data)),
      models,
      imgSize: positiveInt(values['img-size'], '--img-size', 128),
      epochs: positiveInt(values.epochs, '--epochs', 10),
      batch: positiveInt(values.batch, '--batch', 32),
      lr: positiveRate(values.lr),
      limit: values.limit ? positiveInt(values.limit, '--limit', 1) : null,
      outDir: values.out ? path.resolve(String(values.out)) : config.benchResults,
      seed: 42,
      negativeClass: (values['negative-class'] as string | undefined) ?? null,
      split: split.startsWith('file:') ? `file:${path.resolve(split.slice(5))}` : split,
      init,
    };
    return runBench(config, o, out);
  },
};

function positiveRate(raw: unknown): number {
  const lr = raw === undefined ? 0.001 : Number(raw);
  if (!(lr > 0 && lr <= 1)) throw new UsageError(`--lr takes a rate in (0, 1], not "${String(raw)}"`);
  return lr;
}

/** `--init MODEL=BUNDLE` pairs, each MODEL one of the models compared. */
function initBundles(pairs: string[], models: string[]): Record<string, string> {
  const init: Record<string, string> = {};
  for (const pair of pairs) {
    const [model, bundle] = pair.split('=');
    if (!model || !bundle) throw new UsageError(`--init takes MODEL=BUNDLE, not "${pair}"`);
    if (!models.includes(model)) throw new UsageError(`--init names ${model}, which is not in --models`);
    init[model] = path.resolve(bundle);
  }
  return init;
}

export const benchEngineCommand: Command = {
  name: 'bench-engine',
  summary: 'forward-pass timings, TensorFlow.js against ONNX Runtime (npm run bench:engine)',
  flags: {
    quick: { type: 'boolean', description: 'B0 only, 3 runs' },
    out: { type: 'string', value: 'FILE', description: 'the JSON results', default: 'bench-results/engine.json' },
  },
  async run({ values, config, out }) {
    const { runBenchEngine, DEFAULT_CASES } = await import('../bench/run-bench-engine.js');
    const cases = values.quick ? DEFAULT_CASES.filter((c) => c.variant === 'b0').map((c) => ({ ...c, runs: 3 })) : DEFAULT_CASES;
    return runBenchEngine(config, cases, path.resolve(String(values.out ?? 'bench-results/engine.json')), out);
  },
};

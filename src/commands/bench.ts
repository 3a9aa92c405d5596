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
    limit: { type: 'string', value: 'N', description: 'images a class' },
    out: { type: 'string', value: 'DIR', description: 'where results go (default benchResults)' },
    'negative-class': { type: 'string', value: 'NAME', description: 'the class that counts as negative for binary figures' },
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
    const o = {
      dataDir: path.resolve(String(values.data)),
      models,
      imgSize: positiveInt(values['img-size'], '--img-size', 128),
      epochs: positiveInt(values.epochs, '--epochs', 10),
      batch: positiveInt(values.batch, '--batch', 32),
      limit: values.limit ? positiveInt(values.limit, '--limit', 1) : null,
      outDir: values.out ? path.resolve(String(values.out)) : config.benchResults,
      seed: 42,
      negativeClass: (values['negative-class'] as string | undefined) ?? null,
    };
    return runBench(config, o, out);
  },
};

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

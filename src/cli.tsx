// slidetriage: the interactive app by default, headless subcommands for scripts.
// Interactive and headless paths share config and engine, nothing else.
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, mergeConfig, overridesFromPairs, type Config } from './config.js';
import { processOutput } from './headless/output.js';
import { TRAIN_FLAGS } from './headless/train-flags.js';
import { currentModelDir } from './engine/version-pointer.js';

const USAGE = `slidetriage — triage of blood-smear images for Acute Lymphoblastic Leukaemia

Usage:
  slidetriage [--incoming DIR] [--model DIR]          open the triage app (default folder ./incoming)
  slidetriage predict <files or folders…> [--model DIR] [--json | --csv] [--batch N]
  slidetriage train --data DIR --out DIR [--variant b0…b7|lite0…lite4] [--img-size N] [--epochs 30] [--batch 32]
        [--micro-batch 8] [--workers 1] [--lr 0.001] [--lr-schedule constant|plateau|cosine] [--warmup-steps 0]
        [--bn-momentum 0.99] [--batch-norm batch|frozen] [--recalibrate-bn 50] [--average-from EPOCH]
        [--prior-correction on|off] [--ood on|off] [--patience N] [--val-split 0.25]
        [--test-split 0] [--split blocks|stratified|file:PATH] [--block-size 20] [--seed N] [--resume]
        [--init BUNDLE…] [--augment flips,rot90,jitter=0.1|none] [--pooling max|avg] [--dense 256]
        [--dropout 0.2] [--negative-class NAME] [--architecture efficientnet|mobilenetv2|vgg19|…] [--float16]
        [--eval-runtime auto|onnx|tfjs] [--json]
  slidetriage explain <files or folders…> [--methods gradcam,cam,lime,ig,gradcam14,gradcam28,layercam] --out DIR [--model DIR]
  slidetriage xai-eval --data DIR [--masks DIR] [--limit N] [--methods …] [--json]   explanation quality table
  slidetriage import-weights FILE.h5 --variant b0…b7 --out DIR [--img-size N] [--classes a,b,…]
  slidetriage import-weights FILE.tflite --arch lite0…lite4|mobilenetv2 --out DIR [--labels FILE] [--classes a,b,…]
        [--pooling avg|max] [--dense N] [--dropout 0.2]   the new head on an imported backbone
  slidetriage scan [--incoming DIR]                   read the incoming folder once, then print the status
  slidetriage status [--json]                         counts of queued, duplicate, rejected and labelled slides
  slidetriage export --format csv|folders --out DIR [--force]   the confirmed labels (folders: input for train);
        --out must be empty or new unless --force
  slidetriage audit verify                            check the audit journal's hash chain
  slidetriage bench --data DIR --models effnet-b0,vgg19,resnet50,inceptionresnetv2,densenet121,alexnet
        [--img-size N] [--epochs E] [--limit N] [--out DIR]   the paper's model comparison
  slidetriage bench-engine [--quick] [--out FILE]     forward-pass timings (npm run bench:engine)
  slidetriage retrain [--mode head|full] [--base DIR] [--classes a,b] [--epochs N] [--held-out 0.25] [--json]
        a new model version from the store's confirmed labels, compared with the current model
  slidetriage models [list | promote VERSION | rollback VERSION]   model versions and the current one

Options for every command:
  --config FILE        a JSON configuration file (default ./slidetriage.json when present)
  --set KEY=VALUE      override one configuration value, e.g. --set images.maxPixels=1000000
  --backend NAME       auto, tensorflow-gpu, tensorflow, wasm or cpu
  --model DIR          model bundle (default: the shipped models/default)
  -h, --help           this text
`;

const COMMON = {
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  backend: { type: 'string' },
  model: { type: 'string' },
  incoming: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  batch: { type: 'string' },
  quick: { type: 'boolean' },
  out: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  format: { type: 'string' },
  methods: { type: 'string' },
  masks: { type: 'string' },
  classes: { type: 'string' },
  arch: { type: 'string' },
  labels: { type: 'string' },
  models: { type: 'string' },
  limit: { type: 'string' },
  mode: { type: 'string' },
  base: { type: 'string' },
  'held-out': { type: 'string' },
  force: { type: 'boolean' },
  ...TRAIN_FLAGS,
} as const satisfies ParseArgsConfig['options'];

class UsageError extends Error {}

function configFrom(values: Record<string, unknown>): Config {
  let overrides = overridesFromPairs((values.set as string[] | undefined) ?? []);
  const flags: Record<string, unknown> = {};
  if (values.backend) flags.backend = values.backend;
  if (values.model) flags.model = values.model;
  if (values.incoming) flags.incoming = values.incoming;
  overrides = mergeConfig(overrides, flags as never);
  return loadConfig({ file: values.config as string | undefined, overrides });
}

function positiveInt(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number of at least 1, got "${raw}"`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: COMMON, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [command, ...rest] = positionals;
  let config = configFrom(values);
  // A promoted model version replaces the default unless --model names a bundle.
  const defaultModel = config.model;
  if (!values.model) config = { ...config, model: await currentModelDir(config.versions, config.model) };
  const out = processOutput(values.quiet);
  switch (command) {
    case undefined: {
      const { runApp } = await import('./app.js');
      return runApp(config, defaultModel);
    }
    case 'predict': {
      if (!rest.length) throw new UsageError('predict needs at least one file or folder');
      if (values.json && values.csv) throw new UsageError('choose one of --json and --csv');
      const { runPredict } = await import('./headless/predict.js');
      return runPredict(config, { paths: rest, format: values.json ? 'json' : values.csv ? 'csv' : 'text', batch: positiveInt(values.batch, '--batch', config.predict.batch) }, out);
    }
    case 'train': {
      const { runTrain, trainOptionsFrom } = await import('./headless/train.js');
      let options;
      try {
        options = trainOptionsFrom(values, config, argv);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      return runTrain(config, options, !!values.json, out);
    }
    case 'explain': {
      if (!rest.length || !values.out) throw new UsageError('explain needs files or folders and --out DIR');
      const { parseMethods, runExplain } = await import('./headless/explain.js');
      let methods;
      try {
        methods = parseMethods(values.methods, config.explain.methods);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      return runExplain(config, rest, methods, path.resolve(values.out), out);
    }
    case 'xai-eval': {
      if (!values.data) throw new UsageError('xai-eval needs --data DIR (class folders)');
      const { parseMethods } = await import('./headless/explain.js');
      const { runXaiEval } = await import('./headless/xai-eval.js');
      let methods;
      try {
        methods = parseMethods(values.methods, ['gradcam', 'cam', 'lime', 'ig']);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      return runXaiEval(config, { dataDir: values.data, masksDir: values.masks ?? null, limit: positiveInt(values.limit, '--limit', 20), methods, json: !!values.json }, out);
    }
    case 'import-weights': {
      const variant = values.arch ?? values.variant;
      if (rest.length !== 1 || !variant || !values.out) throw new UsageError('import-weights needs one FILE.h5 with --variant b0…b7, or one FILE.tflite with --arch lite0…lite4|mobilenetv2, and --out DIR');
      const { runImportWeights } = await import('./headless/import-weights.js');
      const classes = (values.classes ?? 'Benign,Early,Pre,Pro').split(',').map((c) => c.trim()).filter(Boolean);
      const imgSize = values['img-size'] ? positiveInt(values['img-size'], '--img-size', 224) : undefined;
      const head = {
        ...(values.pooling ? { pooling: values.pooling === 'max' ? ('max' as const) : ('avg' as const) } : {}),
        ...(values.dense ? { denseUnits: Number(values.dense) } : {}),
        ...(values.dropout ? { dropout: Number(values.dropout) } : {}),
      };
      return runImportWeights(config, { file: rest[0], variant, outDir: path.resolve(values.out), imgSize, classes, labels: values.labels, head }, out);
    }
    case 'scan': {
      const { runScan } = await import('./headless/store-commands.js');
      return runScan(config, out);
    }
    case 'status': {
      const { runStatus } = await import('./headless/store-commands.js');
      return runStatus(config, !!values.json, out);
    }
    case 'export': {
      if (!values.format || !values.out) throw new UsageError('export needs --format csv|folders and --out DIR');
      const { runExportCommand } = await import('./headless/store-commands.js');
      return runExportCommand(config, { format: values.format, outDir: path.resolve(values.out), force: !!values.force }, out);
    }
    case 'audit': {
      if (rest[0] !== 'verify') throw new UsageError('audit has one subcommand: audit verify');
      const { runAuditVerify } = await import('./headless/store-commands.js');
      return runAuditVerify(config, out);
    }
    case 'bench': {
      if (!values.data) throw new UsageError('bench needs --data DIR (class folders)');
      const { runBench } = await import('./headless/bench.js');
      const { parseModelName } = await import('./engine/models/architectures.js');
      const models = (values.models ?? 'effnet-b0,vgg19,resnet50,inceptionresnetv2,densenet121,alexnet').split(',').map((m) => m.trim()).filter(Boolean);
      try {
        models.forEach(parseModelName);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      return runBench(
        config,
        {
          dataDir: path.resolve(values.data),
          models,
          imgSize: positiveInt(values['img-size'], '--img-size', 128),
          epochs: positiveInt(values.epochs, '--epochs', 10),
          batch: positiveInt(values.batch, '--batch', 32),
          limit: values.limit ? positiveInt(values.limit, '--limit', 1) : null,
          outDir: values.out ? path.resolve(values.out) : config.benchResults,
          seed: 42,
          negativeClass: values['negative-class'] ?? null,
        },
        out,
      );
    }
    case 'bench-engine': {
      const { runBenchEngine, DEFAULT_CASES } = await import('./headless/bench-engine.js');
      const cases = values.quick ? DEFAULT_CASES.filter((c) => c.variant === 'b0').map((c) => ({ ...c, runs: 3 })) : DEFAULT_CASES;
      return runBenchEngine(config, cases, path.resolve(values.out ?? 'bench-results/engine.json'), out);
    }
    case 'retrain': {
      const mode = values.mode ?? 'head';
      if (mode !== 'head' && mode !== 'full') throw new UsageError(`--mode must be head or full, got "${mode}"`);
      const heldOut = values['held-out'] === undefined ? 0.25 : Number(values['held-out']);
      if (!(heldOut >= 0 && heldOut < 1)) throw new UsageError(`--held-out must be a fraction from 0 to below 1, got "${values['held-out']}"`);
      const { runRetrain } = await import('./headless/retrain.js');
      return runRetrain(
        config,
        {
          mode,
          baseDataDir: values.base ? path.resolve(values.base) : null,
          classes: values.classes ? values.classes.split(',').map((c) => c.trim()).filter(Boolean) : null,
          epochs: values.epochs === undefined ? null : positiveInt(values.epochs, '--epochs', 1),
          heldOutFraction: heldOut,
          seed: values.seed === undefined ? 42 : Number(values.seed),
          json: !!values.json,
        },
        out,
      );
    }
    case 'models': {
      const { runModels } = await import('./headless/retrain.js');
      return runModels(config, defaultModel, rest, out);
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

// A reader that went away (`slidetriage predict … | head`) is not an error: stop quietly, as Unix tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`error: ${err.message}\n\n${err instanceof UsageError ? USAGE : ''}`);
      process.exitCode = 2;
      return;
    }
    // A clear sentence for the user; the stack only when asked for (SLIDETRIAGE_DEBUG=1).
    const e = err as Error;
    process.stderr.write(`error: ${process.env.SLIDETRIAGE_DEBUG ? (e.stack ?? e) : (e.message ?? e)}\n`);
    process.exitCode = 1;
  },
);

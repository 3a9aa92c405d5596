// Configuration: config/default.json, then a user file, then CLI flags; each layer validated by one zod schema.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { IMAGE_SETTINGS } from './terminal/detect.js';
import { METHOD_INFO, METHOD_NAMES } from './core/explanation-methods.js';

export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];
export const RUNTIMES = ['auto', 'onnx', 'tfjs'] as const;
export type RuntimeChoice = (typeof RUNTIMES)[number];
export const ONNX_PROVIDERS = ['auto', 'cpu', 'cuda'] as const;
export type OnnxProviderChoice = (typeof ONNX_PROVIDERS)[number];

export const configSchema = z
  .object({
    incoming: z.string().min(1),
    /** The SQLite store (files, slides, predictions, decisions and their journal, leases). */
    store: z.string().min(1),
    /** The JSON-lines journal of an older slidetriage's store.json, which `slidetriage store migrate` imports. */
    journal: z.string().min(1),
    model: z.string().min(1),
    /** Retrained model versions and `current.json`, the promoted one (when absent, `model` is current). */
    versions: z.string().min(1),
    /** Earlier models shipped with the package (the from-scratch B0), listed beside the versions to compare and roll back to. */
    shippedModels: z.array(z.string().min(1)),
    /** Where `slidetriage bench` writes its tables and the Benchmarks screen reads them. */
    benchResults: z.string().min(1),
    /** A display name shown beside the operating-system user; the journal always records the OS user. */
    technicianName: z.string().min(1).nullable(),
    /** Classes the number keys set when no model is loaded (a model brings its own). */
    classes: z.array(z.string().min(1)).min(2).max(9),
    backend: z.enum(BACKENDS),
    /** Worker threads for runtimes that can use them; 0 = let the runtime decide. */
    threads: z.number().int().min(0).max(256),
    /**
     * Forward passes (classification, LIME samples, feature maps): 'onnx' = ONNX Runtime on the bundle's
     * exported graph, 'tfjs' = TensorFlow.js; 'auto' takes ONNX Runtime when it loads. Gradients and
     * training always run on TensorFlow.js.
     */
    runtime: z.enum(RUNTIMES),
    /** ONNX Runtime's execution provider; 'auto' takes CUDA when its provider library is installed. */
    onnxProvider: z.enum(ONNX_PROVIDERS),
    images: z
      .object({
        extensions: z.array(z.string().regex(/^[a-z0-9]+$/, 'lower-case extension without a dot')).min(1),
        maxPixels: z.number().int().min(1).max(1_000_000_000),
        maxBytes: z.number().int().min(1),
        resize: z.enum(['stretch', 'letterbox']),
        /** A decode that takes longer is stopped and the file rejected as `timeout`. */
        decodeSeconds: z.number().int().min(1).max(3600),
        /** A file modified this recently that does not read as a whole image yet is `changed` and read again, not rejected. */
        settleSeconds: z.number().min(0).max(3600),
      })
      .strict(),
    /** Engine hosts on a PostgreSQL store (README, "Several machines"). */
    cluster: z
      .object({
        /** A classification job not finished in this time is taken as its worker's death, and done elsewhere. */
        jobTimeoutSeconds: z.number().int().min(2).max(3600),
        /** Engine hosts classify (slidetriage engine serve): the app then predicts nothing itself, and watches the folder only with --ingest. */
        engineHosts: z.boolean(),
        /** With a PostgreSQL store: the folder every host shares for slide copies and maps (null: the folder of `journal`). */
        sharedFolder: z.string().min(1).nullable(),
      })
      .strict(),
    display: z
      .object({
        /** How the app draws images: auto asks the terminal (docs/app.md, "Images in the terminal"). */
        images: z.enum(IMAGE_SETTINGS),
        /**
         * One character cell in pixels, "WxH" (e.g. "9x18"), for a sixel terminal that does not answer the
         * size queries (a stock xterm keeps window operations off); null: asked of the terminal.
         */
        cellPixels: z
          .string()
          .regex(/^[1-9]\d{0,2}x[1-9]\d{0,2}$/, 'display.cellPixels is WIDTHxHEIGHT in pixels, e.g. "9x18"')
          .nullable(),
      })
      .strict(),
    /** tta: probabilities averaged over the 8 symmetries of the square (8 forward passes a slide). */
    predict: z.object({ batch: z.number().int().min(1).max(512), tta: z.boolean() }).strict(),
    explain: z
      .object({
        /** `slidetriage explain`'s default methods, and those `x` adds in the app (the ones not shown yet). */
        methods: z.array(z.enum(METHOD_NAMES)),
        /**
         * The maps made for every new slide in the app, in the background (LIME and IG come on request, x).
         * LayerCAM first: on the default model it points into the cell most often (README, Explanations).
         */
        slideMethods: z.array(z.enum(METHOD_NAMES).refine((m) => METHOD_INFO[m].fast, 'LIME and IG are too slow for every slide: they run on request (x)')).min(1),
        colormap: z.enum(['turbo', 'jet']),
        alpha: z.number().min(0).max(1),
        lime: z
          .object({
            samples: z.number().int().min(10).max(10_000),
            segments: z.number().int().min(2).max(1_000),
            seed: z.number().int(),
          })
          .strict(),
        ig: z
          .object({
            steps: z.number().int().min(2).max(1_024),
            baseline: z.enum(['black', 'white', 'blur']),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/**
 * The folder of the store's own files (slide copies by sha256, the maps' PNGs): beside a SQLite store's file;
 * with a PostgreSQL store, `cluster.sharedFolder` (a folder every host mounts), else the folder of `journal`.
 */
export function storeFolder(config: Pick<Config, 'store' | 'journal' | 'cluster'>): string {
  if (!/^postgres(ql)?:\/\//.test(config.store)) return path.dirname(config.store);
  return config.cluster.sharedFolder ?? path.dirname(config.journal);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Repository root (where config/ and models/ live), whatever the working directory. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, everything else (arrays included) replaces. */
export function mergeConfig(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(v) && isObject(out[k]) ? mergeConfig(out[k] as JsonObject, v) : v;
  }
  return out;
}

/** One line per problem: the dotted field, then what is allowed. */
export function describeIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    return `  ${field}: ${issue.message}`;
  });
  return `invalid configuration in ${source}:\n${lines.join('\n')}`;
}

/** Keys that reach an object's prototype when merged (`--set __proto__.polluted=1` once became `images.polluted`). */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Throws on a prototype key anywhere in a configuration value. */
function refusePrototypeKeys(value: unknown, source: string, at: string[] = []): void {
  if (Array.isArray(value)) value.forEach((v, i) => refusePrototypeKeys(v, source, [...at, String(i)]));
  if (!isObject(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (PROTOTYPE_KEYS.has(k)) throw new ConfigError(`invalid configuration in ${source}: "${[...at, k].join('.')}" is not a configuration key (${k} is refused everywhere)`);
    refusePrototypeKeys(v, source, [...at, k]);
  }
}

function readJson(file: string): JsonObject {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`configuration file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new ConfigError(`configuration file ${file} must hold a JSON object`);
  refusePrototypeKeys(parsed, file);
  return parsed;
}

/** Turns `--set images.maxPixels=1000` style pairs into a nested object; values parse as JSON when they can. */
export function overridesFromPairs(pairs: string[]): JsonObject {
  const out: JsonObject = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set needs key=value, got "${pair}"`);
    const keys = pair.slice(0, eq).split('.');
    const bad = keys.find((k) => PROTOTYPE_KEYS.has(k));
    if (bad) throw new ConfigError(`--set ${pair.slice(0, eq)}: ${bad} is not a configuration key`);
    const raw = pair.slice(eq + 1);
    let value: Json;
    try {
      value = JSON.parse(raw) as Json;
    } catch {
      value = raw;
    }
    refusePrototypeKeys(value, `--set ${pair.slice(0, eq)}`);
    let node = out;
    keys.slice(0, -1).forEach((k) => {
      if (!isObject(node[k])) node[k] = {};
      node = node[k] as JsonObject;
    });
    node[keys[keys.length - 1]] = value;
  }
  return out;
}

export interface LoadConfigOptions {
  /** A user configuration file; defaults to ./slidetriage.json when it exists. */
  file?: string;
  /** Values from CLI flags, already nested. */
  overrides?: JsonObject;
  cwd?: string;
}

export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const cwd = opts.cwd ?? process.cwd();
  const defaultsFile = path.join(PACKAGE_ROOT, 'config', 'default.json');
  let merged = readJson(defaultsFile);
  const sources = [defaultsFile];
  const userFile = opts.file ?? (fs.existsSync(path.join(cwd, 'slidetriage.json')) ? path.join(cwd, 'slidetriage.json') : undefined);
  if (userFile) {
    merged = mergeConfig(merged, readJson(path.resolve(cwd, userFile)));
    sources.push(userFile);
  }
  if (opts.overrides) {
    merged = mergeConfig(merged, opts.overrides);
    sources.push('command-line flags');
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(describeIssues(result.error, sources.join(' + ')));
  const cfg = result.data;
  // The default model path is relative to the package; user paths are relative to the working directory.
  const resolveFrom = (p: string, isDefaultModel = false) => (path.isAbsolute(p) ? p : path.resolve(isDefaultModel ? PACKAGE_ROOT : cwd, p));
  return {
    ...cfg,
    incoming: resolveFrom(cfg.incoming),
    // A PostgreSQL store is an address, not a path.
    store: /^postgres(ql)?:\/\//.test(cfg.store) ? cfg.store : resolveFrom(cfg.store),
    journal: resolveFrom(cfg.journal),
    cluster: { ...cfg.cluster, sharedFolder: cfg.cluster.sharedFolder === null ? null : resolveFrom(cfg.cluster.sharedFolder) },
    benchResults: resolveFrom(cfg.benchResults),
    versions: resolveFrom(cfg.versions),
    model: resolveFrom(cfg.model, cfg.model === './models/default'),
    shippedModels: cfg.shippedModels.map((m) => resolveFrom(m, m.startsWith('./models/'))),
  };
}

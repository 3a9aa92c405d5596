// Model bundles: a folder with the tfjs model files and a manifest saying what the model is, how it
// was trained and how well it did, with the sha256 of every file. Loading checks all of it and names
// the file at fault.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { modelSpecSchema, type ModelSpec } from './models/spec.js';
import './models/normalization.js'; // registers the custom layer for deserialisation
import { OOD_FILE, oodSchema, type OodIndex } from './ood/knn.js';
import { featureTensor } from './models/feature-split.js';
import { ensureDir, FILE_MODE } from '../store/files.js';

export const MANIFEST_FILE = 'manifest.json';
export const MODEL_FILE = 'model.json';
export const FORMAT_VERSION = 1;

export const manifestSchema = z
  .object({
    format: z.literal('slidetriage-model'),
    formatVersion: z.literal(FORMAT_VERSION),
    /** Stable id: name plus the first 12 hex digits of the weights' sha256. */
    id: z.string().min(1),
    name: z.string().min(1),
    created: z.string(),
    spec: modelSpecSchema,
    preprocessing: z.object({ resize: z.enum(['stretch', 'letterbox']), scale: z.literal('0..1') }).strict(),
    weightsDtype: z.enum(['float32', 'float16']),
    /** Where the weights came from and how they were trained; free-form, written by `train`. */
    training: z.record(z.string(), z.unknown()).nullable(),
    /** Held-out metrics, written by `train`. */
    metrics: z.record(z.string(), z.unknown()).nullable(),
    files: z.record(z.string(), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(0) })),
    /** The out-of-distribution index (ood/knn.ts), when training had a validation part to set it on. */
    ood: oodSchema.nullable().optional(),
  })
  .strict();
export type Manifest = z.infer<typeof manifestSchema>;

export class BundleError extends Error {
  override name = 'BundleError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function joinWeightData(data: tf.io.WeightData): ArrayBuffer {
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

/** IEEE 754 binary16 from binary32, round to nearest even. */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const x = u32[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rest = mant & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (rest > halfway || (rest === halfway && half & 1)) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
    out[i] = sign | half;
  }
  return out;
}

/** binary32 from IEEE 754 binary16 (the inverse of toFloat16 where that is exact). */
export function fromFloat16(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) out[i] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) out[i] = mant ? NaN : sign * Infinity;
    else out[i] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}

export interface SaveOptions {
  name: string;
  spec: ModelSpec;
  resize?: 'stretch' | 'letterbox';
  float16?: boolean;
  training?: Record<string, unknown> | null;
  metrics?: Record<string, unknown> | null;
  /** Written as float16 (unit vectors: half precision changes a cosine by < 1e-3). */
  ood?: OodIndex | null;
}

/** Writes model.json, weights.bin and manifest.json into dir (created if needed). */
export async function saveBundle(model: tf.LayersModel, dir: string, opts: SaveOptions): Promise<Manifest> {
  await ensureDir(dir);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.weightSpecs || !artifacts.weightData) throw new Error('model.save produced no weights');
  let weightBytes: Uint8Array = new Uint8Array(joinWeightData(artifacts.weightData));
  let specs = artifacts.weightSpecs;
  if (opts.float16) {
    const f32 = new Float32Array(weightBytes.buffer, weightBytes.byteOffset, weightBytes.byteLength / 4);
    if (specs.some((s) => s.dtype !== 'float32')) throw new Error('float16 export needs float32 weights only');
    weightBytes = new Uint8Array(toFloat16(f32).buffer);
    specs = specs.map((s) => ({ ...s, quantization: { dtype: 'float16' as const } }));
  }
  const weightsFile = 'weights.bin';
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [weightsFile], weights: specs }],
  };
  const modelBytes = Buffer.from(JSON.stringify(modelJson));
  await writeAtomic(path.join(dir, weightsFile), weightBytes);
  await writeAtomic(path.join(dir, MODEL_FILE), modelBytes);
  const oodBytes = opts.ood ? new Uint8Array(toFloat16(opts.ood.bank).buffer) : null;
  if (oodBytes) await writeAtomic(path.join(dir, OOD_FILE), oodBytes);
  else await fs.rm(path.join(dir, OOD_FILE), { force: true });
  const weightsSha = sha256(weightBytes);
  const manifest: Manifest = {
    format: 'slidetriage-model',
    formatVersion: FORMAT_VERSION,
    id: `${opts.name}@${weightsSha.slice(0, 12)}`,
    name: opts.name,
    created: new Date().toISOString(),
    spec: opts.spec,
    preprocessing: { resize: opts.resize ?? 'stretch', scale: '0..1' },
    weightsDtype: opts.float16 ? 'float16' : 'float32',
    training: opts.training ?? null,
    metrics: opts.metrics ?? null,
    files: {
      [MODEL_FILE]: { sha256: sha256(modelBytes), bytes: modelBytes.length },
      [weightsFile]: { sha256: weightsSha, bytes: weightBytes.length },
      ...(oodBytes ? { [OOD_FILE]: { sha256: sha256(oodBytes), bytes: oodBytes.length } } : {}),
    },
    ...(opts.ood ? { ood: opts.ood.meta } : {}),
  };
  await writeAtomic(path.join(dir, MANIFEST_FILE), Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
  return manifest;
}

/** Rewrites only the manifest (metrics, provenance); the files it lists stay as they are. */
export async function updateManifest(dir: string, patch: Partial<Pick<Manifest, 'training' | 'metrics'>>): Promise<Manifest> {
  const manifest = await readManifest(dir);
  const next = { ...manifest, ...patch };
  await writeAtomic(path.join(dir, MANIFEST_FILE), Buffer.from(JSON.stringify(next, null, 2) + '\n'));
  return next;
}

async function writeAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const handle = await fs.open(tmp, 'w', FILE_MODE);
  try {
    await handle.writeFile(bytes);
    await handle.chmod(FILE_MODE); // the store's modes, whatever the umask: owner and group only
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
}

/** Resolves a path named inside the bundle, refusing any that leaves the bundle folder. */
function insideBundle(dir: string, name: string, namedIn: string): string {
  const root = path.resolve(dir);
  const full = path.resolve(root, name);
  if (path.isAbsolute(name) || (full !== root && !full.startsWith(root + path.sep))) {
    throw new BundleError(namedIn, `the path "${name}" leaves the bundle folder`);
  }
  return full;
}

async function readBytes(dir: string, name: string, namedIn: string): Promise<Buffer> {
  const file = insideBundle(dir, name, namedIn);
  try {
    return await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BundleError(path.join(dir, name), code === 'ENOENT' ? 'missing' : `cannot read (${code ?? (err as Error).message})`);
  }
}

export async function readManifest(dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_FILE);
  const bytes = await readBytes(dir, MANIFEST_FILE, dir);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BundleError(file, `not valid JSON (${(err as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
    throw new BundleError(file, `not a valid slidetriage model manifest: ${issues}`);
  }
  return parsed.data;
}

export interface LoadedBundle {
  dir: string;
  manifest: Manifest;
  model: tf.LayersModel;
  /** Null for a bundle without one (older bundles, runs without a validation part). */
  ood: OodIndex | null;
}

const BYTES_PER: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint16: 2, uint8: 1 };

/** Loads and verifies a bundle: every listed file present with its sha256, shapes that fit the spec. */
export async function loadBundle(dir: string): Promise<LoadedBundle> {
  const manifest = await readManifest(dir);
  for (const [name, expected] of Object.entries(manifest.files)) {
    const bytes = await readBytes(dir, name, path.join(dir, MANIFEST_FILE));
    if (bytes.length !== expected.bytes || sha256(bytes) !== expected.sha256) {
      throw new BundleError(path.join(dir, name), `corrupt: its size or sha256 differs from the manifest (${bytes.length} bytes, expected ${expected.bytes})`);
    }
  }
  const ood = await readOod(dir, manifest);
  const modelFile = path.join(dir, MODEL_FILE);
  if (!manifest.files[MODEL_FILE]) throw new BundleError(path.join(dir, MANIFEST_FILE), `does not list ${MODEL_FILE}`);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse((await readBytes(dir, MODEL_FILE, dir)).toString('utf8'));
  } catch (err) {
    if (err instanceof BundleError) throw err;
    throw new BundleError(modelFile, `not valid JSON (${(err as Error).message})`);
  }
  if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new BundleError(modelFile, 'has no modelTopology or weightsManifest');
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const shards: Buffer[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const p of group.paths) {
      if (!manifest.files[p]) throw new BundleError(modelFile, `names weight file "${p}" that the manifest does not list`);
      shards.push(await readBytes(dir, p, modelFile));
    }
    specs.push(...group.weights);
  }
  const weightData = Buffer.concat(shards);
  const expectedBytes = specs.reduce((n, s) => n + tf.util.sizeFromShape(s.shape) * BYTES_PER[s.quantization?.dtype ?? s.dtype], 0);
  if (expectedBytes !== weightData.length) {
    throw new BundleError(modelFile, `its weight specs need ${expectedBytes} bytes but the weight files hold ${weightData.length}`);
  }
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: specs,
        weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.length) as ArrayBuffer,
      }),
    );
  } catch (err) {
    throw new BundleError(modelFile, `cannot build the model: ${(err as Error).message.split('\n')[0]}`);
  }
  const inputShape = model.inputs[0].shape;
  const { inputSize, classes } = manifest.spec;
  if (inputShape[1] !== inputSize || inputShape[2] !== inputSize || inputShape[3] !== 3) {
    model.dispose();
    throw new BundleError(modelFile, `input shape [${inputShape.join(', ')}] does not match the manifest's ${inputSize}×${inputSize}×3`);
  }
  const units = model.outputs[0].shape[1];
  const expectedUnits = classes.length === 2 ? 1 : classes.length;
  if (units !== expectedUnits) {
    model.dispose();
    throw new BundleError(modelFile, `output has ${units} units but the manifest lists ${classes.length} classes`);
  }
  const featureDim = ood ? featureChannels(model) : null;
  if (ood && featureDim !== ood.meta.dim) {
    model.dispose();
    throw new BundleError(path.join(dir, ood.meta.file), `holds ${ood.meta.dim} features per image but the model's last feature map has ${featureDim ?? 'no known number of'} channels`);
  }
  return { dir, manifest, model, ood };
}

function featureChannels(model: tf.LayersModel): number | null {
  try {
    return featureTensor(model).shape.at(-1) ?? null;
  } catch {
    return null; // no pooling layer to find the feature map by
  }
}

async function readOod(dir: string, manifest: Manifest): Promise<OodIndex | null> {
  const meta = manifest.ood;
  if (!meta) return null;
  if (!manifest.files[meta.file]) throw new BundleError(path.join(dir, MANIFEST_FILE), `does not list ${meta.file}`);
  const bytes = await readBytes(dir, meta.file, path.join(dir, MANIFEST_FILE)); // its sha256 was checked above
  if (bytes.length !== meta.n * meta.dim * 2) throw new BundleError(path.join(dir, meta.file), `holds ${bytes.length} bytes, not ${meta.n} × ${meta.dim} float16 values`);
  const halves = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return { meta, bank: fromFloat16(halves) };
}

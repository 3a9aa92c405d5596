// `slidetriage import-weights FILE.h5 --variant b7 --out DIR` (Keras) or
// `slidetriage import-weights FILE.tflite --arch lite0|mobilenetv2 --out DIR [--labels FILE]` (TFLite):
// a bundle to train from (`train --init DIR`), or with --labels a whole classifier (ImageNet's, say).
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { saveBundle } from '../engine/bundle.js';
import { importKerasWeights } from '../engine/keras-import.js';
import { isVariant, VARIANT_NAMES, VARIANTS, type Variant } from '../engine/models/efficientnet.js';
import { buildModel, defaultSpec, type ModelSpec } from '../engine/models/spec.js';
import { headSchema, type HeadSpec } from '../engine/models/head.js';
import { describeBackend, resolveBackend } from '../engine/tfjs/backend.js';
import { readTflite } from '../engine/tflite/read.js';
import { importTfliteWeights } from '../engine/tflite/import.js';
import type { Output } from './output.js';
import { classNameProblem } from '../core/class-name.js';

export interface ImportOptions {
  file: string;
  /** b0…b7 for Keras files; lite0…lite4 or mobilenetv2 for TFLite files. */
  variant: string;
  outDir: string;
  imgSize?: number;
  classes: string[];
  /** TFLite: a label file (one per line) for a file with its classifier; the bundle then keeps that head. */
  labels?: string;
  /** The new head to put on an imported backbone (default: GAP → BN → dropout 0.2 → output). */
  head?: Partial<HeadSpec>;
}

// TFLite files carry the mobile families (batch norm folded); Keras files the B family.
const TFLITE_VARIANTS = VARIANT_NAMES.filter((v) => VARIANTS[v].family !== 'b');

export async function runImportWeights(config: Config, o: ImportOptions, out: Output): Promise<number> {
  const tflite = o.file.toLowerCase().endsWith('.tflite');
  if (!isVariant(o.variant) || (tflite ? !TFLITE_VARIANTS.includes(o.variant) : VARIANTS[o.variant].family !== 'b')) {
    out.error(tflite ? `--arch must be one of ${TFLITE_VARIANTS.join(', ')} for a .tflite file, got "${o.variant}"` : `--variant must be one of b0…b7 for a Keras file, got "${o.variant}"`);
    return 2;
  }
  const badClass = o.classes.map(classNameProblem).find((p) => p);
  if (badClass) {
    out.error(badClass);
    return 2;
  }
  const head = headSchema.partial().safeParse(o.head ?? {});
  if (!head.success) {
    out.error(`the head: ${head.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    return 2;
  }
  try {
    out.info(describeBackend(await resolveBackend(config.backend, config.threads)));
    const bytes = await fs.readFile(o.file).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`${o.file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const options = { ...o, head: head.data };
    const result = tflite ? await importTflite(options, o.variant, bytes) : await importKeras(options, o.variant);
    const manifest = await saveBundle(result.model, o.outDir, { name: result.name, spec: result.spec, training: { importedFrom: path.resolve(o.file), sha256, ...result.provenance } });
    result.model.dispose();
    for (const line of result.lines) out.stdout(line);
    out.stdout(`bundle ${manifest.id} written to ${o.outDir}; fine-tune with: slidetriage train --data DIR --out DIR ${result.trainFlags} --init ${o.outDir}`);
    return 0;
  } catch (err) {
    out.error((err as Error).message);
    return 1;
  }
}

interface Imported {
  model: ReturnType<typeof buildModel>;
  spec: ModelSpec;
  name: string;
  provenance: Record<string, unknown>;
  lines: string[];
  trainFlags: string;
}

async function importKeras(o: ImportOptions, variant: Variant): Promise<Imported> {
  const spec = defaultSpec(variant, o.classes, { inputSize: o.imgSize, head: o.head });
  const model = buildModel(spec, 1);
  const report = await importKerasWeights(o.file, model);
  const lines = [`${report.loaded.length} layers loaded from ${o.file} into EfficientNet-${variant.toUpperCase()} (${spec.inputSize} px)`];
  if (report.notInFile.length) lines.push(`new, not in the file (trained from scratch): ${report.notInFile.join(', ')}`);
  if (report.unexpected.length) lines.push(`in the file but not in the model (ignored): ${report.unexpected.join(', ')}`);
  const provenance = { loadedLayers: report.loaded.length, notInFile: report.notInFile, unexpected: report.unexpected, normalisation: report.normalisation, head: 'untrained: train with --init' };
  return { model, spec, name: `keras-${variant}`, provenance, lines, trainFlags: `--variant ${variant}` };
}

/** Label lines made unique (ImageNet has two "crane"s and two "maillot"s): a repeat gets its index. */
export function uniqueLabels(lines: string[]): string[] {
  const seen = new Set<string>();
  return lines.map((label, i) => {
    const unique = seen.has(label) ? `${label} (${i})` : label;
    seen.add(unique);
    return unique;
  });
}

async function importTflite(o: ImportOptions, variant: Variant, bytes: Uint8Array): Promise<Imported> {
  const graph = readTflite(bytes, o.file);
  const withHead = o.labels !== undefined;
  const classes = withHead ? uniqueLabels((await fs.readFile(o.labels!, 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '')) : o.classes;
  const architecture = variant === 'mobilenetv2' ? 'mobilenetv2' : 'efficientnet';
  // With its classifier, the file's head is global average pooling → logits, and nothing between.
  const head = withHead ? { pooling: 'avg' as const, batchNorm: false, denseUnits: 0, l1: 0, l2: 0, dropout: 0 } : { pooling: 'avg' as const, denseUnits: 0, ...o.head };
  const spec = defaultSpec(variant, classes, { architecture, inputSize: o.imgSize, head });
  const model = buildModel(spec, 1);
  const report = importTfliteWeights(graph, model);
  if (withHead && report.notInFile.length) throw new Error(`--labels was given but the file has no classifier for ${report.notInFile.join(', ')}`);
  const title = variant === 'mobilenetv2' ? 'MobileNetV2 1.0' : `EfficientNet-${variant[0].toUpperCase()}${variant.slice(1)}`;
  const lines = [`${report.loaded.length} layers loaded from ${o.file} (${report.quantization}, dequantized to float32) into ${title} (${spec.inputSize} px)`];
  if (report.notInFile.length) lines.push(`new, not in the file (trained from scratch): ${report.notInFile.join(', ')}`);
  const provenance = {
    format: 'tflite',
    loadedLayers: report.loaded.length,
    notInFile: report.notInFile,
    quantization: report.quantization,
    batchNorm: 'folded into the convolutions (biases)',
    head: withHead ? `the file's classifier (${classes.length} classes)` : 'untrained: train with --init',
  };
  const trainFlags = variant === 'mobilenetv2' ? '--architecture mobilenetv2' : `--variant ${variant}`;
  return { model, spec, name: `imagenet-${variant}`, provenance, lines, trainFlags };
}

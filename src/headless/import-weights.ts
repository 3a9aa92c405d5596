// `slidetriage import-weights FILE.h5 --variant b7 --out DIR`: a bundle to train from (`train --init DIR`).
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { saveBundle } from '../engine/bundle.js';
import { importKerasWeights } from '../engine/keras-import.js';
import { isVariant } from '../engine/models/efficientnet.js';
import { buildModel, defaultSpec } from '../engine/models/spec.js';
import { describeBackend, resolveBackend } from '../engine/tfjs/backend.js';
import type { Output } from './output.js';

export interface ImportOptions {
  file: string;
  variant: string;
  outDir: string;
  imgSize?: number;
  classes: string[];
}

export async function runImportWeights(config: Config, o: ImportOptions, out: Output): Promise<number> {
  if (!isVariant(o.variant)) {
    out.error(`--variant must be one of b0…b7, got "${o.variant}"`);
    return 2;
  }
  try {
    out.info(describeBackend(await resolveBackend(config.backend, config.threads)));
    const spec = defaultSpec(o.variant, o.classes, { inputSize: o.imgSize });
    const model = buildModel(spec, 1);
    const report = await importKerasWeights(o.file, model);
    const sha256 = createHash('sha256').update(await fs.readFile(o.file)).digest('hex');
    const manifest = await saveBundle(model, o.outDir, {
      name: `keras-${o.variant}`,
      spec,
      training: { importedFrom: path.resolve(o.file), sha256, loadedLayers: report.loaded.length, notInFile: report.notInFile, unexpected: report.unexpected, normalisation: report.normalisation, head: 'untrained: train with --init' },
    });
    model.dispose();
    out.stdout(`${report.loaded.length} layers loaded from ${o.file} into EfficientNet-${o.variant.toUpperCase()} (${spec.inputSize} px)`);
    if (report.notInFile.length) out.stdout(`new, not in the file (trained from scratch): ${report.notInFile.join(', ')}`);
    if (report.unexpected.length) out.stdout(`in the file but not in the model (ignored): ${report.unexpected.join(', ')}`);
    out.stdout(`bundle ${manifest.id} written to ${o.outDir}; fine-tune with: slidetriage train --data DIR --out DIR --variant ${o.variant} --init ${o.outDir}`);
    return 0;
  } catch (err) {
    out.error((err as Error).message);
    return 1;
  }
}

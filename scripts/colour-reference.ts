// `node --import tsx scripts/colour-reference.ts MODEL_DIR DATA_DIR`: records the colour of a model's
// training images (its split.json's train part, read from DATA_DIR as `train` reads them) in its manifest,
// for a model trained before `train` recorded it. `adapt` maps a lab's colour onto it (engine/adapt/colour.ts).
// The weights and the id do not change.
import fs from 'node:fs/promises';
import path from 'node:path';
import { colourStats } from '../src/engine/adapt/colour.js';
import { readManifest, updateManifest } from '../src/engine/bundle.js';
import { prepareImage } from '../src/ingest/image.js';

const [modelDir, dataDir] = process.argv.slice(2);
if (!modelDir || !dataDir) throw new Error('usage: colour-reference.ts MODEL_DIR DATA_DIR');
const manifest = await readManifest(modelDir);
const split = JSON.parse(await fs.readFile(path.join(modelDir, 'split.json'), 'utf8')) as { train: string[] };
const limits = { extensions: ['jpg', 'jpeg', 'png', 'bmp', 'tif', 'tiff'], maxPixels: 64e6, maxBytes: 1e9 };
const inputs: Float32Array[] = [];
for (const file of split.train) {
  const { inputSize } = manifest.spec;
  inputs.push((await prepareImage(path.join(dataDir, file), limits, inputSize, manifest.preprocessing.resize)).input);
}
const colourReference = colourStats(inputs);
await updateManifest(modelDir, { training: { ...manifest.training, colourReference } });
console.log(`${manifest.id}: colour of ${inputs.length} training images`, JSON.stringify(colourReference));

// Keras weight files (the legacy HDF5 layout of keras.applications, e.g. efficientnetb7_notop.h5) read
// with h5wasm and mapped by layer name onto our models, every shape checked.
//
// Layout: the root (or its `model_weights` group, in a whole-model file) lists `layer_names`; each layer
// is a group whose `weight_names` attribute lists datasets such as `stem_conv/kernel:0`, stored under
// the layer's group at that path.
import fs from 'node:fs';
import h5wasm from 'h5wasm/node';
import * as tf from '@tensorflow/tfjs';

export interface ImportReport {
  file: string;
  /** Layers whose weights came from the file. */
  loaded: string[];
  /** Our layers with weights that the file does not have (a new head, say). */
  notInFile: string[];
  /** Layers in the file that our model does not have. */
  unexpected: string[];
  /** See importKerasWeights: Keras stores the ImageNet standard deviations as the variance. */
  normalisation: 'squared' | 'absent';
}

export class KerasImportError extends Error {
  override name = 'KerasImportError';
}

type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

const suffix = (weightName: string) => weightName.replace(/:\d+$/, '').split('/').pop()!;

function stringList(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => (typeof v === 'string' ? v : new TextDecoder().decode(v as Uint8Array)).replace(/\0+$/, ''));
}

/** Reads every layer's weights: layer name → (weight suffix → values and shape). */
export async function readKerasWeights(file: string): Promise<Map<string, Map<string, { values: Float32Array; shape: number[] }>>> {
  if (!fs.existsSync(file)) throw new KerasImportError(`${file}: no such file`);
  await h5wasm.ready;
  let f;
  try {
    f = new h5wasm.File(file, 'r');
  } catch (err) {
    throw new KerasImportError(`${file} is not an HDF5 file (${(err as Error).message})`);
  }
  try {
    const root = (f.keys().includes('model_weights') ? f.get('model_weights') : f) as H5Group;
    if (!('layer_names' in root.attrs)) throw new KerasImportError(`${file} has no layer_names attribute: not a Keras HDF5 weight file (Keras 3 .weights.h5 files have another layout)`);
    const out = new Map<string, Map<string, { values: Float32Array; shape: number[] }>>();
    for (const layer of stringList(root.get_attribute('layer_names', true))) {
      const group = root.get(layer) as H5Group | null;
      if (!group) throw new KerasImportError(`${file}: layer ${layer} is listed but has no group`);
      const names = 'weight_names' in group.attrs ? stringList(group.get_attribute('weight_names', true)) : [];
      if (!names.length) continue;
      const weights = new Map<string, { values: Float32Array; shape: number[] }>();
      for (const name of names) {
        const ds = group.get(name) as H5Dataset | null;
        if (!ds) throw new KerasImportError(`${file}: dataset ${layer}/${name} is missing`);
        const value = ds.value;
        // Scalars (Normalization's count) come back as a number or bigint, arrays as typed arrays.
        const raw = (typeof value === 'number' || typeof value === 'bigint' ? [value] : value) as ArrayLike<number | bigint>;
        const values = Float32Array.from({ length: raw.length }, (_, i) => Number(raw[i]));
        weights.set(suffix(name), { values, shape: ds.shape ?? [] });
      }
      out.set(layer, weights);
    }
    return out;
  } finally {
    f.close();
  }
}

/**
 * Loads a Keras weight file into `model` by layer name. Every shape must agree (an error lists all that
 * do not); layers on either side without a partner are reported.
 *
 * Keras's EfficientNet scales [0, 255] input by 1/255, applies Normalization(mean, variance) and then, for
 * ImageNet weights, Rescaling(1/√variance), because the file's "variance" holds the standard deviations
 * [0.229, 0.224, 0.225]: the effective transform is (x − mean) / variance_file. Our Normalization divides
 * by √variance on [0, 1] input, so the file's variance is squared on import.
 */
export async function importKerasWeights(file: string, model: tf.LayersModel): Promise<ImportReport> {
  const weights = await readKerasWeights(file);
  const loaded: string[] = [];
  const notInFile: string[] = [];
  const problems: string[] = [];
  const assignments: Array<{ layer: tf.layers.Layer; values: tf.Tensor[] }> = [];
  let normalisation: ImportReport['normalisation'] = 'absent';
  for (const layer of model.layers) {
    const ours = layer.weights;
    if (!ours.length) continue;
    const theirs = weights.get(layer.name);
    if (!theirs) {
      notInFile.push(layer.name);
      continue;
    }
    const values: tf.Tensor[] = [];
    for (const w of ours) {
      const key = suffix(w.originalName);
      const t = theirs.get(key);
      const shape = w.shape as number[];
      if (!t) {
        problems.push(`${layer.name}: the file has no "${key}" (it has ${[...theirs.keys()].join(', ')})`);
        continue;
      }
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        problems.push(`${layer.name}/${key}: the file has shape [${t.shape.join(', ')}], the model needs [${shape.join(', ')}]`);
        continue;
      }
      let data = t.values;
      if (layer.getClassName() === 'Normalization' && key === 'variance') {
        data = data.map((v) => v * v);
        normalisation = 'squared';
      }
      values.push(tf.tensor(data, shape));
    }
    if (values.length === ours.length) {
      assignments.push({ layer, values });
      loaded.push(layer.name);
    } else {
      tf.dispose(values);
    }
  }
  if (problems.length) {
    assignments.forEach((a) => tf.dispose(a.values));
    throw new KerasImportError(`${file} does not fit the model:\n  ${problems.join('\n  ')}`);
  }
  if (!loaded.length) throw new KerasImportError(`${file} has no layer whose name matches the model (is --variant right?)`);
  for (const { layer, values } of assignments) {
    layer.setWeights(values);
    tf.dispose(values);
  }
  const ourNames = new Set(model.layers.map((l) => l.name));
  return { file, loaded, notInFile, unexpected: [...weights.keys()].filter((n) => !ourNames.has(n)), normalisation };
}

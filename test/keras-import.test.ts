import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadBundle } from '../src/engine/bundle.js';
import h5wasm from 'h5wasm/node';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { importKerasWeights, KerasImportError } from '../src/engine/keras-import.js';
import { buildBackbone, buildModel, defaultSpec } from '../src/engine/models/spec.js';
import { tempDir } from './helpers.js';
import { resolveBackend } from '../src/engine/tfjs/backend.js';

beforeAll(async () => {
  await resolveBackend('wasm');
  await h5wasm.ready;
});

/** Known values for weight k of a layer: small, different everywhere. */
function known(layerIndex: number, k: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(layerIndex * 7.1 + k * 3.3 + i * 0.37) * 0.05);
}

/**
 * Writes a weight file in keras.applications' HDF5 layout for a B0 backbone: root attribute layer_names,
 * per layer a group with weight_names and datasets at <layer>/<layer>/<weight>:0. The normalisation layer
 * holds the ImageNet standard deviations as its "variance", as Keras's files do.
 */
function writeKerasB0(file: string, opts: { skip?: string; extra?: boolean; badShape?: string } = {}) {
  const reference = buildBackbone('b0', 224);
  const f = new h5wasm.File(file, 'w');
  const layerNames: string[] = [];
  const expected = new Map<string, Float32Array[]>();
  reference.layers.forEach((layer, li) => {
    if (layer.name === opts.skip) return;
    layerNames.push(layer.name);
    const g = f.create_group(layer.name);
    const names = layer.weights.map((w) => `${layer.name}/${w.originalName.split('/').pop()}:0`);
    const arrays: Float32Array[] = [];
    expected.set(layer.name, arrays);
    if (!names.length) return;
    g.create_attribute('weight_names', names);
    // h5py creates the intermediate group of "<layer>/<weight>:0" itself; h5wasm needs it made.
    const sub = g.create_group(layer.name);
    layer.weights.forEach((w, k) => {
      const shape = [...(w.shape as number[])];
      if (`${layer.name}/${k}` === opts.badShape) shape[shape.length - 1] += 1;
      const n = shape.reduce((a, b) => a * b, 1);
      let data = known(li, k, n);
      // Batch norm variances must be positive.
      if (w.originalName.endsWith('moving_variance')) data = data.map((v) => Math.abs(v) + 0.5);
      if (layer.name === 'normalization') data = [Float32Array.of(0.485, 0.456, 0.406), Float32Array.of(0.229, 0.224, 0.225), Float32Array.of(1000)][k];
      arrays.push(data);
      sub.create_dataset({ name: names[k].split('/')[1], data, shape, dtype: '<f' });
    });
  });
  if (opts.extra) {
    // A layer our model does not have: reported, not loaded.
    layerNames.push('probs');
    const g = f.create_group('probs');
    g.create_attribute('weight_names', ['probs/kernel:0']);
    g.create_group('probs').create_dataset({ name: 'kernel:0', data: new Float32Array(1280 * 10), shape: [1280, 10], dtype: '<f' });
  }
  f.create_attribute('layer_names', layerNames);
  f.create_attribute('backend', 'tensorflow');
  f.create_attribute('keras_version', '2.15.0');
  f.close();
  reference.dispose();
  return expected;
}

describe('Keras weight import', () => {
  it('loads a B0 backbone by layer name, checks the values and a forward pass', async () => {
    const file = path.join(await tempDir(), 'efficientnetb0_notop.h5');
    const expected = writeKerasB0(file, { extra: true });
    const model = buildModel(defaultSpec('b0', ['Benign', 'Early', 'Pre', 'Pro']), 1);
    const report = await importKerasWeights(file, model);
    expect(report.loaded).toContain('block6d_project_conv');
    expect(report.notInFile.sort()).toEqual(['head_bn', 'head_dense', 'predictions']);
    expect(report.unexpected).toEqual(['probs']);
    expect(report.normalisation).toBe('squared');
    // Every loaded weight equals the file's values.
    for (const name of ['stem_conv', 'block1a_dwconv', 'block3b_se_reduce', 'top_bn']) {
      const got = model
        .getLayer(name)
        .getWeights()
        .map((w) => w.dataSync());
      expected.get(name)!.forEach((want, k) => expect(Array.from(got[k])).toEqual(Array.from(want)));
    }
    const variance = model.getLayer('normalization').getWeights()[1].dataSync();
    expect(Array.from(variance).map((v) => Number(v.toFixed(6)))).toEqual([0.052441, 0.050176, 0.050625]);
    // A forward pass equals that of a backbone given the same values directly.
    const direct = buildBackbone('b0', 224);
    for (const layer of direct.layers) {
      const arrays = expected.get(layer.name);
      if (!arrays || !arrays.length) continue;
      layer.setWeights(arrays.map((a, k) => tf.tensor(layer.name === 'normalization' && k === 1 ? a.map((v) => v * v) : a, layer.weights[k].shape as number[])));
    }
    const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 3);
    const imported = tf.model({ inputs: model.inputs, outputs: model.getLayer('top_activation').output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
    const reference = direct.predict(x) as tf.Tensor;
    const diff = tf.max(tf.abs(tf.sub(imported, reference))).dataSync()[0];
    expect(diff).toBeLessThan(1e-5);
    model.dispose();
    direct.dispose();
  }, 60_000);

  it('reports every shape that does not fit, and a file with no matching layer', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'bad.h5');
    writeKerasB0(file, { badShape: 'stem_conv/0' });
    const model = buildModel(defaultSpec('b0', ['a', 'b']), 1);
    const err = await importKerasWeights(file, model).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KerasImportError);
    expect((err as Error).message).toMatch(/stem_conv\/kernel: the file has shape \[3, 3, 3, 33\], the model needs \[3, 3, 3, 32\]/);
    const b7 = buildModel(defaultSpec('b7', ['a', 'b'], { inputSize: 64 }), 1);
    const good = path.join(dir, 'b0.h5');
    writeKerasB0(good);
    await expect(importKerasWeights(good, b7)).rejects.toThrow(/shape/);
    await expect(importKerasWeights(path.join(dir, 'none.h5'), model)).rejects.toThrow(/no such file/);
    model.dispose();
    b7.dispose();
  }, 60_000);

  it('slidetriage import-weights writes a bundle that train --init can start from', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'efficientnetb0_notop.h5');
    const expected = writeKerasB0(file);
    const bin = path.resolve(import.meta.dirname, '..', 'bin', 'slidetriage.js');
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'import-weights', file, '--variant', 'b0', '--img-size', '64', '--classes', 'all,hem', '--out', path.join(dir, 'bundle')]);
    expect(stdout).toMatch(/layers loaded from/);
    expect(stdout).toMatch(/new, not in the file \(trained from scratch\): head_bn, head_dense, predictions/);
    const bundle = await loadBundle(path.join(dir, 'bundle'));
    expect(bundle.manifest.spec).toMatchObject({ variant: 'b0', inputSize: 64, classes: ['all', 'hem'] });
    expect(Array.from(bundle.model.getLayer('top_conv').getWeights()[0].dataSync().slice(0, 5))).toEqual(Array.from(expected.get('top_conv')![0].slice(0, 5)));
    bundle.model.dispose();
  }, 60_000);
});

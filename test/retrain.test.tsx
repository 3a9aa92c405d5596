import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import React from 'react';
import { render } from 'ink-testing-library';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { App } from '../src/app.js';
import { EngineProvider } from '../src/contexts/EngineContext.js';
import { StoreProvider } from '../src/contexts/StoreContext.js';
import { EngineClient } from '../src/engine/client.js';
import { loadConfig, storeFolder } from '../src/config.js';
import { openStore } from '../src/store/store.js';
import { holdOut, confirmedLabels } from '../src/store/labels.js';
import { findVersion, listVersions, readPointer, setCurrent, type VersionInfo } from '../src/engine/versions.js';
import { currentModelDir } from '../src/engine/version-pointer.js';
import { loadBundle, saveBundle } from '../src/engine/bundle.js';
import { fitOod } from '../src/engine/ood/knn.js';
import { buildRetrainRequest } from '../src/services/retrain-request.js';
import { slideCopiesDir } from '../src/store/slide-copies.js';
import type { RetrainLabel } from '../src/engine/retrain/types.js';
import type { AdaptResult } from '../src/engine/adapt/types.js';
import { initialRetrainState, retrainReducer } from '../src/state/retrain.js';
import { FIXTURES, makeBundle, relativeError, tempDir } from './helpers.js';

const clients: EngineClient[] = [];
let modelDir: string;

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  modelDir = await tempDir();
  await makeBundle(modelDir, { size: 32, classes: ['Benign', 'Early', 'Pre', 'Pro'] });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

const label = (i: number, cls: string): RetrainLabel => ({ file: `/x/${cls}${i}.png`, label: cls, sha256: `${cls}${i}`, decidedAt: `2026-11-28T10:00:0${i}Z`, technician: 't' });

describe('held-out labels', () => {
  it('holds out about a quarter of every class with two or more labels, the same way for the same seed', () => {
    const labels = [...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => label(i, 'Benign')), ...[0, 1, 2, 3].map((i) => label(i, 'Pro')), label(0, 'Pre')];
    const a = holdOut(labels, 0.25, 1);
    expect(a.heldOut.filter((l) => l.label === 'Benign')).toHaveLength(2);
    expect(a.heldOut.filter((l) => l.label === 'Pro')).toHaveLength(1);
    expect(a.train.filter((l) => l.label === 'Pre')).toHaveLength(1); // a single label always trains
    expect(a.train.length + a.heldOut.length).toBe(labels.length);
    expect(holdOut(labels, 0.25, 1)).toEqual(a);
    expect(holdOut(labels, 0.25, 2).heldOut.map((l) => l.sha256)).not.toEqual(a.heldOut.map((l) => l.sha256));
  });
});

/** A store with six labelled fixture images (three Benign, three Pro) in its incoming folder. */
async function labelledSetup() {
  const cwd = await tempDir();
  const config = loadConfig({ cwd, overrides: { model: modelDir, backend: 'wasm', runtime: 'onnx', shippedModels: [] } });
  await fs.mkdir(config.incoming, { recursive: true });
  const store = await openStore(config.store, { technician: 'alice', displayName: null });
  const picks = [
    ...(await fs.readdir(path.join(FIXTURES, 'cnmc', 'hem'))).slice(0, 3).map((f) => ['hem', f, 'Benign']),
    ...(await fs.readdir(path.join(FIXTURES, 'cnmc', 'all'))).slice(0, 3).map((f) => ['all', f, 'Pro']),
  ];
  const shas: string[] = [];
  for (const [i, [dir, f]] of picks.entries()) {
    await fs.copyFile(path.join(FIXTURES, 'cnmc', dir, f), path.join(config.incoming, f));
    const sha = createHash('sha256')
      .update(await fs.readFile(path.join(config.incoming, f)))
      .digest('hex');
    shas.push(sha);
    await store.importRecords({
      slides: [{ sha256: sha, path: f, width: 450, height: 450, addedAt: `2026-11-28T10:0${i}:00.000Z` }],
      files: [{ path: f, state: 'queued', sha256: sha, duplicateOf: null, code: null, reason: null, size: 1, mtimeMs: 1, seenAt: '' }],
    });
  }
  for (const [i, pick] of picks.entries()) {
    await store.decide({ sha256: shas[i], action: 'correct', label: pick[2], note: '', modelId: null, predicted: null, probabilities: null });
  }
  return { config, store, cwd };
}

/** The app on a store with a real engine, and a wait for a frame that matches. */
function appOn(config: ReturnType<typeof loadConfig>, store: Awaited<ReturnType<typeof openStore>>) {
  const client = new EngineClient();
  clients.push(client);
  const ui = render(
    <EngineProvider config={config} client={client}>
      <StoreProvider config={config} store={store} watch={false}>
        <App config={config} technician="alice" defaultModel={modelDir} />
      </StoreProvider>
    </EngineProvider>,
  );
  onTestFinished(() => ui.unmount()); // also when an assertion fails half-way, before the engine closes
  const waitFor = async (text: RegExp, ms = 60_000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (text.test(ui.lastFrame() ?? '')) return ui.lastFrame()!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${text}; last frame:\n${ui.lastFrame()}`);
  };
  return { ui, waitFor };
}

describe('head-only retraining pieces', () => {
  it('features from ONNX Runtime and from TensorFlow.js agree, and the rebuilt head reproduces the model from them', async () => {
    const { extractFeatures } = await import('../src/engine/retrain/features.js');
    const { headModel } = await import('../src/engine/retrain/head-only.js');
    const { OrtModel } = await import('../src/engine/onnx/ort-runtime.js');
    const { exportToOnnx } = await import('../src/engine/onnx/export.js');
    const bundle = await loadBundle(modelDir);
    const image = new Float32Array(32 * 32 * 3).map((_, i) => (Math.sin(i * 0.1) + 1) / 2);
    const viaTfjs = await extractFeatures(bundle, null, [image], 8, async () => {});
    const ort = await OrtModel.create(exportToOnnx(bundle.model).bytes, 32, { threads: 1, provider: 'cpu' });
    const viaOrt = await extractFeatures(bundle, ort, [image], 8, async () => {});
    await ort.dispose();
    expect(viaOrt.k).toBe(1280);
    expect(relativeError(viaOrt.features, viaTfjs.features)).toBeLessThan(1e-4);
    // View 0 is the image itself: the paper head (max pool, batch norm, dense, dropout, softmax) on its
    // features gives the model's own probabilities.
    const head = headModel(bundle, viaTfjs.k, bundle.manifest.spec.classes, 1);
    const fromFeatures = tf.tidy(() => (head.predict(tf.tensor2d(viaTfjs.features.slice(0, viaTfjs.k), [1, viaTfjs.k])) as tf.Tensor).dataSync());
    const direct = tf.tidy(() => (bundle.model.predict(tf.tensor4d(image, [1, 32, 32, 3])) as tf.Tensor).dataSync());
    expect(relativeError(fromFeatures, direct)).toBeLessThan(1e-5);
    head.dispose();
    bundle.model.dispose();
  });
});

describe('retraining from the store', () => {
  it('makes a new version from the confirmed labels, compares it with the current model, and can be promoted and rolled back', async () => {
    const { config, store } = await labelledSetup();
    const engine = new EngineClient();
    clients.push(engine);
    await engine.call('init', { backend: 'wasm', threads: 1, runtime: 'onnx' });
    expect(confirmedLabels(await store.labelledSlides(), config.incoming, slideCopiesDir(storeFolder(config)))).toHaveLength(6);
    const req = await buildRetrainRequest(config, store, modelDir, ['Benign', 'Early', 'Pre', 'Pro'], { mode: 'head', baseDataDir: null, classes: null, epochs: 5, heldOutFraction: 0.34, seed: 3 });
    expect(req.train).toHaveLength(4);
    expect(req.heldOut).toHaveLength(2);
    const result = await engine.call('retrain', req);
    expect(result.heldOut.n).toBe(2);
    expect(result.heldOut.current).not.toBeNull();
    expect(result.heldOut.candidate).not.toBeNull();
    expect(result.curve).toHaveLength(5);
    const bundle = await loadBundle(result.outDir);
    const provenance = bundle.manifest.training?.retrain as { labels: Array<{ sha256: string }>; heldOut: unknown[]; mode: string };
    expect(provenance.mode).toBe('head');
    expect(provenance.labels.map((l) => l.sha256).sort()).toEqual(req.train.map((l) => l.sha256).sort());
    // The backbone is the current model's, the head changed.
    const current = await loadBundle(modelDir);
    const w = (b: typeof bundle, layer: string) => b.model.getLayer(layer).getWeights()[0].dataSync();
    expect(Array.from(w(bundle, 'stem_conv'))).toEqual(Array.from(w(current, 'stem_conv')));
    expect(Array.from(w(bundle, 'predictions'))).not.toEqual(Array.from(w(current, 'predictions')));
    bundle.model.dispose();
    current.model.dispose();

    const versions = await listVersions(config.versions, modelDir);
    expect(versions.map((v) => v.kind)).toEqual(['default', 'head']);
    expect(versions[0].current).toBe(true);
    await setCurrent(config.versions, findVersion(versions, path.basename(result.outDir)), 'promote', 'alice');
    expect(await currentModelDir(config.versions, modelDir)).toBe(path.resolve(result.outDir));
    await setCurrent(config.versions, findVersion(await listVersions(config.versions, modelDir), 'default'), 'rollback', 'alice');
    expect(await currentModelDir(config.versions, modelDir)).toBe(path.resolve(modelDir));
    expect((await readPointer(config.versions))!.history.map((h) => h.action)).toEqual(['promote', 'rollback']);
  });

  it("full retraining fine-tunes every layer at a tenth of the rate, holding the model's batch-norm statistics, its classes and its out-of-distribution check", async () => {
    const { config, store } = await labelledSetup();
    const engine = new EngineClient();
    clients.push(engine);
    await engine.call('init', { backend: 'wasm', threads: 1, runtime: 'onnx' });
    // The current model with an out-of-distribution index, as every trained model has.
    const parentDir = await tempDir();
    const parent = await loadBundle(modelDir);
    const rows = (n: number) => new Float32Array(n * 1280).map((_, i) => Math.sin(i * 0.37) + 1);
    await saveBundle(parent.model, parentDir, { name: 'test-with-index', spec: parent.manifest.spec, training: {}, ood: fitOod(rows(40), rows(10), 1280, 5, 0.9) });
    parent.model.dispose();
    const req = await buildRetrainRequest(config, store, parentDir, ['Benign', 'Early', 'Pre', 'Pro'], {
      mode: 'full',
      baseDataDir: null,
      classes: null,
      epochs: 1,
      heldOutFraction: 0.34,
      seed: 3,
    });
    expect(req.lr).toBe(0.0001);
    const result = await engine.call('retrain', req);
    expect(result.heldOut.candidate).not.toBeNull();
    const bundle = await loadBundle(result.outDir);
    const current = await loadBundle(modelDir);
    expect(bundle.manifest.training?.options).toMatchObject({ batchNorm: 'frozen', lr: 0.0001 });
    const w = (b: typeof bundle, layer: string, i: number) => Array.from(b.model.getLayer(layer).getWeights()[i].dataSync());
    expect(w(bundle, 'stem_conv', 0)).not.toEqual(w(current, 'stem_conv', 0)); // every layer trains
    expect(w(bundle, 'stem_bn', 2)).toEqual(w(current, 'stem_bn', 2)); // moving mean held
    expect(w(bundle, 'top_bn', 3)).toEqual(w(current, 'top_bn', 3)); // moving variance held
    // Only Benign and Pro were labelled: the version keeps all four classes, is compared on the same
    // footing, and keeps the current model's index (too few labels to fit one).
    expect(bundle.manifest.spec.classes).toEqual(['Benign', 'Early', 'Pre', 'Pro']);
    expect(result.heldOut.current).not.toBeNull();
    expect(result.heldOut.note).toBeUndefined();
    expect(bundle.ood?.meta.n).toBe(40);
    expect(bundle.manifest.training?.oodCarriedFrom).toMatch(/^test-with-index@/);
    bundle.model.dispose();
    current.model.dispose();
  });

  it('refuses labels outside the model classes unless the new classes are named', async () => {
    const { config, store } = await labelledSetup();
    await expect(buildRetrainRequest(config, store, modelDir, ['hem', 'all'], { mode: 'head', baseDataDir: null, classes: null, epochs: 1, heldOutFraction: 0.25, seed: 1 })).rejects.toThrow(
      /--classes/,
    );
  });

  it('refuses to retrain on a label whose file was replaced after the decision (no copy kept), naming it', async () => {
    const { config, store } = await labelledSetup();
    const labelled = await store.labelledSlides();
    const [benign] = labelled.filter((x) => x.decision.label === 'Benign').map((x) => x.slide);
    const [pro] = labelled.filter((x) => x.decision.label === 'Pro').map((x) => x.slide);
    await fs.copyFile(path.join(config.incoming, pro.path), path.join(config.incoming, benign.path)); // a Pro image under a Benign label
    const options = { mode: 'head', baseDataDir: null, classes: null, epochs: 1, heldOutFraction: 0.25, seed: 1 } as const;
    await expect(buildRetrainRequest(config, store, modelDir, ['Benign', 'Early', 'Pre', 'Pro'], options)).rejects.toThrow(
      new RegExp(`1 labelled slide\\(s\\) no longer hold the image that was labelled.*${benign.path} is no longer the image`),
    );
  });

  it('the Retrain screen: r retrains, p asks, y promotes, and the model in use changes', async () => {
    const { config, store } = await labelledSetup();
    const { ui, waitFor } = appOn(config, store);
    await waitFor(/test-untrained@/);
    ui.stdin.write('R');
    await waitFor(/Retrain from the confirmed labels/);
    await waitFor(/6 confirmed label/);
    ui.stdin.write('r');
    const done = await waitFor(/new version slidetriage-retrained@/);
    expect(done).toMatch(/held-out confirmed labels\s+2/);
    ui.stdin.write('p');
    await waitFor(/Make slidetriage-retrained@\S+ the current model\?/);
    ui.stdin.write('y');
    await waitFor(/promoted slidetriage-retrained@/);
    expect((await readPointer(config.versions))!.history).toHaveLength(1);
    await waitFor(/\* slidetriage-retrained@/);
    // The Benchmarks screen scores every version on the confirmed labels, under the shipped comparison:
    // Space pages down to it.
    ui.stdin.write('B');
    await waitFor(/Benchmarks/);
    for (let i = 0; i < 40 && !/press e to score/.test(ui.lastFrame() ?? ''); i++) {
      ui.stdin.write(' ');
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor(/press e to score/);
    ui.stdin.write('e');
    // The shipped comparison may have loaded (and grown the screen) after the pages above: page on until the
    // versions' message shows.
    const scoredEnd = Date.now() + 60_000;
    while (Date.now() < scoredEnd && !/2 version\(s\) scored/.test(ui.lastFrame() ?? '')) {
      ui.stdin.write(' ');
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitFor(/2 version\(s\) scored/);
    for (let i = 0; i < 40 && !/test-untrained@\S+ \| default/.test(ui.lastFrame() ?? ''); i++) {
      ui.stdin.write(' ');
      await new Promise((r) => setTimeout(r, 100));
    }
    const scored = await waitFor(/test-untrained@\S+ \| default/);
    expect(scored).toMatch(/\| \* slidetriage-retrained@\S+ \| head \| 6 \|/);
    expect(scored).toMatch(/\| test-untrained@\S+ \| default \| 6 \|/);
  });
});

describe('adapt on the Retrain screen', () => {
  it('a starts adapting on the store’s slides, and with six of them says why it will not', async () => {
    const { config, store } = await labelledSetup();
    const { ui, waitFor } = appOn(config, store);
    await waitFor(/test-untrained@/);
    ui.stdin.write('R');
    await waitFor(/a\s+adapt to this lab|a adapt/);
    ui.stdin.write('a');
    await waitFor(/adapting failed: the lab has 6 slide\(s\); adapting needs at least 40/);
    expect(await listVersions(config.versions, modelDir)).toHaveLength(1); // nothing made
  });

  it('the screen state keeps the adapt result and offers its version for promotion', () => {
    const result = { id: 'slidetriage-adapted@0123456789ab' } as AdaptResult;
    const versions = ['default', 'shipped', 'shipped', 'adapted'].map((kind, i) => ({ id: i === 3 ? result.id : `m${i}@0`, kind }) as VersionInfo);
    const listed = retrainReducer(initialRetrainState, { type: 'versions', versions });
    const s = retrainReducer(retrainReducer(listed, { type: 'started' }), { type: 'adapted', result });
    expect(s.job).toBeNull();
    expect(s.adapted).toBe(result);
    expect(s.selected).toBe(3); // the new version, after the default and the shipped models
    expect(s.message).toMatch(/slidetriage-adapted@0123456789ab adapted to this lab/);
    expect(retrainReducer(s, { type: 'started' }).adapted).toBeNull();
  });
});

describe('models shipped beside the default', () => {
  it('lists them after the default, skips missing ones, and can roll back to one', async () => {
    const dir = await tempDir();
    const shipped = path.join(dir, 'from-scratch');
    await makeBundle(shipped, { size: 32, classes: ['Benign', 'Early', 'Pre', 'Pro'] });
    const versionsDir = path.join(dir, 'versions');
    const versions = await listVersions(versionsDir, modelDir, [shipped, path.join(dir, 'not-there'), modelDir]);
    expect(versions.map((v) => [v.kind, v.dir])).toEqual([
      ['default', modelDir],
      ['shipped', shipped],
    ]);
    await setCurrent(versionsDir, findVersion(versions, 'from-scratch'), 'rollback', 'alice');
    expect(await currentModelDir(versionsDir, modelDir)).toBe(path.resolve(shipped));
  });
});

import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { Predictor } from '../src/app/predictor.js';
import { readEvidence } from '../src/app/explanation-files.js';
import { loadConfig } from '../src/config.js';
import type { EngineClient } from '../src/engine/client.js';
import type { ModelInfo } from '../src/engine/protocol.js';
import { openStore } from '../src/store/store.js';
import { FIXTURES, tempDir } from './helpers.js';

const model: ModelInfo = {
  id: 'fake@0123456789ab',
  name: 'fake',
  classes: ['hem', 'all'],
  inputSize: 16,
  variant: 'b0',
  resize: 'stretch',
  parameters: 1,
  runtime: 'fake',
  dir: '/nowhere',
  metrics: null,
};

/** An engine that records what it is asked and answers every explain call alike. */
function fakeEngine() {
  const calls: { methods: string[]; blank: boolean }[] = [];
  const engine = {
    call: async (name: string, payload: { image: Float32Array; methods: string[] }) => {
      expect(name).toBe('explain');
      calls.push({ methods: payload.methods, blank: payload.image.every((v) => v === 0) });
      const heatmaps = payload.methods.includes('gradcam')
        ? [{ method: 'gradcam', size: 4, values: new Float32Array(16).fill(0.5), target: 1, targetLabel: 'all', params: {}, diagnostics: {}, ms: 1 }]
        : [];
      return { probabilities: new Float32Array([0.3, 0.7]), target: 1, heatmaps, ood: null };
    },
  };
  return { engine: engine as unknown as EngineClient, calls };
}

async function storeWith(files: string[], methods = ['ig14', 'cam', 'lime', 'ig']) {
  const cwd = await tempDir();
  const config = loadConfig({ cwd, overrides: { explain: { methods } } });
  await fs.mkdir(config.incoming, { recursive: true });
  const store = await openStore(config.store, { technician: 't', displayName: null });
  const add = async (f: string) => {
    await fs.copyFile(path.join(FIXTURES, 'cnmc', 'all', f), path.join(config.incoming, f));
    const sha = createHash('sha256')
      .update(await fs.readFile(path.join(config.incoming, f)))
      .digest('hex');
    await store.importRecords({ slides: [{ sha256: sha, path: f, width: 450, height: 450, addedAt: new Date().toISOString() }] });
    return sha;
  };
  for (const f of files) await add(f);
  return { config, store, add };
}

describe('background predictor', () => {
  it('scores every waiting slide, then warms Integrated Gradients up once on a blank image', async () => {
    const files = (await fs.readdir(path.join(FIXTURES, 'cnmc', 'all'))).slice(0, 3);
    const { config, store, add } = await storeWith(files.slice(0, 2));
    const { engine, calls } = fakeEngine();
    const p = new Predictor(config, engine, store, model);
    await p.kick();
    await new Promise((r) => setTimeout(r, 50)); // the warm-up is started after the loop, not awaited by it
    // The slide maps the configuration names (LayerCAM on the 14 × 14 and 28 × 28 maps by default; Grad-CAM 7² comes with x), then the IG warm-up.
    expect(config.explain.slideMethods).toEqual(['layercam14', 'layercam28']);
    expect(calls).toEqual([
      { methods: ['layercam14', 'layercam28'], blank: false },
      { methods: ['layercam14', 'layercam28'], blank: false },
      { methods: ['ig'], blank: true },
    ]);
    const data = await store.dump();
    expect(Object.values(data.predictions).map((list) => list.map((x) => x.label))).toEqual([['all'], ['all']]);
    // Later slides are scored; the warm-up is not repeated.
    await add(files[2]);
    await p.kick();
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.map((c) => c.methods.join())).toEqual(['layercam14,layercam28', 'layercam14,layercam28', 'ig', 'layercam14,layercam28']);
  });

  it('warms nothing up when `x` computes no pixel-level Integrated Gradients', async () => {
    const files = (await fs.readdir(path.join(FIXTURES, 'cnmc', 'all'))).slice(0, 1);
    const { config, store } = await storeWith(files, ['ig14', 'cam', 'lime']);
    const { engine, calls } = fakeEngine();
    await new Predictor(config, engine, store, model).kick();
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.map((c) => c.methods.join())).toEqual(['layercam14,layercam28']);
  });

  it('writes the overlays with the store permissions, and refuses a slide whose file no longer has its sha256', async () => {
    const files = (await fs.readdir(path.join(FIXTURES, 'cnmc', 'all'))).slice(0, 2);
    const { config, store } = await storeWith(files);
    // The second slide's file is replaced by the first's content before it is classified (no copy kept).
    await fs.copyFile(path.join(config.incoming, files[0]), path.join(config.incoming, files[1]));
    const { engine } = fakeEngine();
    const p = new Predictor(config, engine, store, model);
    const errors: string[] = [];
    p.on('error', (_sha, message) => errors.push(message));
    await p.kick();
    expect(errors).toEqual([expect.stringMatching(new RegExp(`${files[1]} is no longer the image that was recorded`))]);
    const data = await store.dump();
    const [prediction] = Object.values(data.predictions).flat();
    expect(Object.keys(data.predictions)).toHaveLength(1);
    const dir = path.join(path.dirname(config.store), 'explanations');
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o770);
    for (const f of Object.values(prediction.explanations)) expect((await fs.stat(path.join(path.dirname(config.store), f))).mode & 0o777).toBe(0o660);
  });

  it('does not warm up after it was stopped', async () => {
    const { config, store } = await storeWith([]);
    const { engine, calls } = fakeEngine();
    const p = new Predictor(config, engine, store, model);
    p.stop();
    await p.kick();
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toEqual([]);
  });

  it("explains the next slide while the last one is written, records each once, and keeps one slide's failed write its own", async () => {
    const files = (await fs.readdir(path.join(FIXTURES, 'cnmc', 'all'))).slice(0, 4);
    const { config, store } = await storeWith(files);
    const { engine, calls } = fakeEngine();
    const events: string[] = [];
    const shas = (await store.unpredicted(model.id, 10)).map((s) => s.sha256);
    // A store whose writes take a while (and the second slide's fails): the engine's calls go on meanwhile.
    const slowStore = Object.create(store) as typeof store;
    slowStore.addPrediction = async (sha, prediction) => {
      events.push(`write ${shas.indexOf(sha)}`);
      await new Promise((r) => setTimeout(r, 30));
      if (sha === shas[1]) throw new Error('disk full');
      await store.addPrediction(sha, prediction);
      events.push(`written ${shas.indexOf(sha)}`);
    };
    const countingEngine = { call: async (name: string, payload: never) => (events.push(`explain ${calls.length}`), engine.call(name as 'explain', payload)) };
    const p = new Predictor(config, countingEngine as unknown as EngineClient, slowStore, model);
    const errors: string[] = [];
    p.on('error', (sha, message) => errors.push(`${shas.indexOf(sha)}: ${message}`));
    await p.kick();
    expect(errors).toEqual(['1: disk full']);
    // The engine explained slide 1 while slide 0 was being written, and each write ended before the next began.
    expect(events.indexOf('explain 1')).toBeLessThan(events.indexOf('written 0'));
    expect(events.filter((e) => e.startsWith('write'))).toEqual(['write 0', 'write 1', 'write 2', 'write 3']);
    expect(events.indexOf('written 0')).toBeLessThan(events.indexOf('write 1'));
    const data = await store.dump();
    expect(Object.keys(data.predictions).sort()).toEqual([shas[0], shas[2], shas[3]].sort());
    expect(calls.filter((c) => !c.blank)).toHaveLength(4);
  });

  it('re-scoring stopped half-way (the app closed) is taken up where it stopped: no slide scored twice, the progress counted', async () => {
    const files = (await fs.readdir(path.join(FIXTURES, 'cnmc', 'all'))).slice(0, 5);
    const { config, store } = await storeWith(files);
    const first = fakeEngine();
    const p = new Predictor(config, first.engine, store, model);
    let predicted = 0;
    p.on('predicted', () => ++predicted === 2 && p.stop());
    await p.kick();
    const scoredAfterStop = (await store.summary()).toReviewScoredBy[model.id];
    expect(scoredAfterStop).toBeGreaterThanOrEqual(2);
    expect(scoredAfterStop).toBeLessThan(5);
    const second = fakeEngine();
    await new Predictor(config, second.engine, store, model).kick();
    await new Promise((r) => setTimeout(r, 50));
    expect(second.calls.filter((c) => !c.blank)).toHaveLength(5 - scoredAfterStop);
    expect((await store.summary()).toReviewScoredBy[model.id]).toBe(5);
    const data = await store.dump();
    expect(Object.values(data.predictions).map((list) => list.length)).toEqual([1, 1, 1, 1, 1]);
  });

  it('writes the cells under the default map: their boxes with each one’s share, and each cell’s crop at 2× the original’s pixels', async () => {
    const files = (await fs.readdir(path.join(FIXTURES, 'cnmc', 'all'))).slice(0, 1);
    const { config, store } = await storeWith(files);
    // A map that is strong in one corner square of the 16 × 16 input, weak elsewhere.
    const values = Float32Array.from({ length: 256 }, (_, p) => (p % 16 < 6 && p < 96 ? 1 : 0.02));
    const engine = {
      call: async () => ({
        probabilities: new Float32Array([0.3, 0.7]),
        target: 1,
        heatmaps: [{ method: 'layercam14', size: 16, values, target: 1, targetLabel: 'all', params: {}, diagnostics: {}, ms: 1 }],
        ood: null,
      }),
    };
    await new Predictor(config, engine as unknown as EngineClient, store, model).kick();
    const [prediction] = Object.values((await store.dump()).predictions).flat();
    const storeDir = path.dirname(config.store);
    const cells = await readEvidence(storeDir, prediction);
    expect(cells.length).toBeGreaterThanOrEqual(1);
    expect(cells.length).toBeLessThanOrEqual(3);
    const sum = cells.reduce((t, c) => t + c.share, 0);
    expect(sum).toBeLessThanOrEqual(1.0001);
    expect(cells[0].share).toBe(Math.max(...cells.map((c) => c.share)));
    // The C-NMC cell is 450 px square: a box of w × 450 px is cut, then enlarged 2×.
    const meta = await sharp(path.join(storeDir, cells[0].crop)).metadata();
    expect(meta.width).toBe(2 * Math.max(1, Math.min(450, Math.round(cells[0].w * 450))));
    expect(prediction.explanations.layercam14).toBeTruthy();
  });
});

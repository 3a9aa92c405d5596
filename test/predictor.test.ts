import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Predictor } from '../src/app/predictor.js';
import { loadConfig } from '../src/config.js';
import type { EngineClient } from '../src/engine/client.js';
import type { ModelInfo } from '../src/engine/protocol.js';
import { SlideStore } from '../src/store/store.js';
import { FIXTURES, tempDir } from './helpers.js';

const model: ModelInfo = { id: 'fake@0123456789ab', name: 'fake', classes: ['hem', 'all'], inputSize: 16, variant: 'b0', resize: 'stretch', parameters: 1, runtime: 'fake', dir: '/nowhere', metrics: null };

/** An engine that records what it is asked and answers every explain call alike. */
function fakeEngine() {
  const calls: { methods: string[]; blank: boolean }[] = [];
  const engine = {
    call: async (name: string, payload: { image: Float32Array; methods: string[] }) => {
      expect(name).toBe('explain');
      calls.push({ methods: payload.methods, blank: payload.image.every((v) => v === 0) });
      return { probabilities: new Float32Array([0.3, 0.7]), target: 1, heatmaps: [], ood: null };
    },
  };
  return { engine: engine as unknown as EngineClient, calls };
}

async function storeWith(files: string[]) {
  const cwd = await tempDir();
  const config = loadConfig({ cwd, overrides: {} });
  await fs.mkdir(config.incoming, { recursive: true });
  const store = await SlideStore.open(config.store, config.journal, { technician: 't', displayName: null });
  for (const [i, f] of files.entries()) {
    await fs.copyFile(path.join(FIXTURES, 'cnmc', 'all', f), path.join(config.incoming, f));
    const sha = String(i).padStart(64, 'c');
    await store.update((d) => {
      d.slides[sha] = { sha256: sha, path: f, width: 450, height: 450, addedAt: new Date().toISOString() };
    });
  }
  return { config, store };
}

describe('background predictor', () => {
  it('scores every waiting slide, then warms Integrated Gradients up once on a blank image', async () => {
    const files = (await fs.readdir(path.join(FIXTURES, 'cnmc', 'all'))).slice(0, 2);
    const { config, store } = await storeWith(files);
    const { engine, calls } = fakeEngine();
    const p = new Predictor(config, engine, store, model);
    await p.kick();
    await new Promise((r) => setTimeout(r, 50)); // the warm-up is started after the loop, not awaited by it
    expect(calls).toEqual([
      { methods: ['gradcam', 'cam'], blank: false },
      { methods: ['gradcam', 'cam'], blank: false },
      { methods: ['ig'], blank: true },
    ]);
    const data = await store.read();
    expect(Object.values(data.predictions).map((list) => list.map((x) => x.label))).toEqual([['all'], ['all']]);
    // Later slides are scored; the warm-up is not repeated.
    await store.update((d) => {
      const sha = 'd'.repeat(64);
      d.slides[sha] = { sha256: sha, path: files[0], width: 450, height: 450, addedAt: new Date().toISOString() };
    });
    await p.kick();
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.map((c) => c.methods.join())).toEqual(['gradcam,cam', 'gradcam,cam', 'ig', 'gradcam,cam']);
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
});

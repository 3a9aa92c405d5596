import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../src/engine/bundle.js';
import { EngineClient } from '../src/engine/client.js';
import { CancelledError } from '../src/engine/protocol.js';
import { TRAIN_DEFAULTS, type TrainOptions, type TrainProgress } from '../src/engine/train/options.js';
import { FIXTURES, tempDir } from './helpers.js';

let engine: EngineClient;
beforeAll(async () => {
  engine = new EngineClient();
  await engine.call('init', { backend: 'wasm', threads: 0 });
});
afterAll(async () => {
  await engine.close();
});

function options(outDir: string, over: Partial<TrainOptions> = {}): TrainOptions {
  return {
    ...TRAIN_DEFAULTS,
    dataDir: path.join(FIXTURES, 'cnmc'),
    outDir,
    imgSize: 32,
    epochs: 1,
    batch: 4,
    microBatch: 2,
    valSplit: 0.2,
    split: 'stratified',
    negativeClass: 'hem',
    extensions: ['bmp'],
    maxPixels: 1e8,
    resize: 'stretch',
    command: 'test',
    backend: 'wasm',
    ...over,
  };
}

describe('training', () => {
  it('trains one epoch on fixtures, is interrupted, and resumes from the checkpoint', async () => {
    const out = await tempDir();
    const seen: TrainProgress[] = [];
    // 16 training images at batch 4: 4 steps an epoch. Stop after 2.
    await expect(engine.call('train', options(out, { maxSteps: 2 }), (p) => seen.push(p.data as TrainProgress))).rejects.toBeInstanceOf(CancelledError);
    const trainingSteps = seen.filter((p) => p.phase === 'training');
    expect(trainingSteps.map((p) => p.step)).toEqual([1, 2]);
    expect(trainingSteps.every((p) => Number.isFinite(p.loss) && p.imagesPerSecond! > 0)).toBe(true);
    const latest = (await fs.readFile(path.join(out, 'checkpoint', 'LATEST'), 'utf8')).trim();
    const state = JSON.parse(await fs.readFile(path.join(out, 'checkpoint', latest, 'state.json'), 'utf8'));
    expect([state.epoch, state.step]).toEqual([0, 2]);

    // Resuming with other options is refused; with the same ones it continues at step 3.
    await expect(engine.call('train', options(out, { resume: true, seed: 7 }))).rejects.toThrow(/other seed/);
    const resumed: TrainProgress[] = [];
    const result = await engine.call('train', options(out, { resume: true }), (p) => resumed.push(p.data as TrainProgress));
    expect(resumed.filter((p) => p.phase === 'training').map((p) => p.step)).toEqual([3, 4]);
    expect(result.history).toHaveLength(1);
    expect(result.val?.metrics.n).toBe(4);
    expect(result.val?.metrics.binary?.negative).toBe('hem');

    const bundle = await loadBundle(out);
    expect(bundle.manifest.spec.classes).toEqual(['all', 'hem']);
    expect(bundle.manifest.metrics).toMatchObject({ headline: 'val' });
    expect((bundle.manifest.training as { epochsRun: number }).epochsRun).toBe(1);
    const split = JSON.parse(await fs.readFile(path.join(out, 'split.json'), 'utf8'));
    expect(split.train).toHaveLength(16);
    expect(split.val).toHaveLength(4);
    expect(await fs.stat(path.join(out, 'checkpoint')).catch(() => null)).toBeNull();
    bundle.model.dispose();

    // The interrupted-and-resumed run ends with exactly the weights of an uninterrupted one.
    const straight = await engine.call('train', options(await tempDir()));
    expect(straight.manifest.files['weights.bin'].sha256).toBe(result.manifest.files['weights.bin'].sha256);
  });

  it('gives the same weights from the same seed (deterministic)', async () => {
    const a = await tempDir();
    const b = await tempDir();
    const ra = await engine.call('train', options(a, { valSplit: 0 }));
    const rb = await engine.call('train', options(b, { valSplit: 0 }));
    expect(ra.manifest.files['weights.bin'].sha256).toBe(rb.manifest.files['weights.bin'].sha256);
    expect(ra.history[0].loss).toBe(rb.history[0].loss);
  });

  it('starts from a bundle with --init, keeping the layers that match', async () => {
    const first = await tempDir();
    await engine.call('train', options(first, { valSplit: 0, imgSize: 32 }));
    const second = await tempDir();
    const seen: string[] = [];
    const r = await engine.call('train', options(second, { valSplit: 0, imgSize: 48, init: first }), (p) => seen.push((p.data as TrainProgress).message));
    expect(seen.some((m) => /initialised \d+ layers from slidetriage@/.test(m))).toBe(true);
    expect((r.manifest.training as { init: { layersNew: string[] } }).init.layersNew).toEqual([]);
    expect(r.manifest.spec.inputSize).toBe(48);
  });

  it('data-parallel: a second thread computes every other micro-batch and the run completes', async () => {
    const out = await tempDir();
    const seen: TrainProgress[] = [];
    // batch 4 of micro-batches of 2: one for this thread, one for the gradient worker.
    await expect(engine.call('train', options(out, { workers: 2, maxSteps: 2 }), (p) => seen.push(p.data as TrainProgress))).rejects.toBeInstanceOf(CancelledError);
    expect(seen.some((p) => p.message === 'data-parallel on 2 threads')).toBe(true);
    const steps = seen.filter((p) => p.phase === 'training');
    expect(steps.map((p) => p.step)).toEqual([1, 2]);
    expect(steps.every((p) => Number.isFinite(p.loss))).toBe(true);
  });
});

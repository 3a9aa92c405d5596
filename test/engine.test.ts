import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineClient } from '../src/engine/client.js';
import { CancelledError } from '../src/engine/protocol.js';
import { makeBundle, tempDir } from './helpers.js';

const SIZE = 32;
let engine: EngineClient;
let bundleDir: string;

function images(n: number, seed: number): Float32Array[] {
  const out: Float32Array[] = [];
  let s = seed;
  for (let i = 0; i < n; i++) {
    const a = new Float32Array(SIZE * SIZE * 3);
    for (let j = 0; j < a.length; j++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      a[j] = (s >>> 8) / 2 ** 24;
    }
    out.push(a);
  }
  return out;
}

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  bundleDir = await tempDir();
  await makeBundle(bundleDir, { size: SIZE });
  engine = new EngineClient();
});

afterAll(async () => {
  await engine.close();
});

describe('engine worker', () => {
  it('reports the backend it runs on and loads a bundle', async () => {
    const report = await engine.call('init', { backend: 'wasm', threads: 0, runtime: 'tfjs' });
    expect(report.backend).toBe('wasm');
    expect(report.addedKernels.sort()).toEqual(['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']);
    const info = await engine.call('load', { modelDir: bundleDir });
    expect(info.classes).toEqual(['Benign', 'Early', 'Pre', 'Pro']);
    expect(info.inputSize).toBe(SIZE);
    expect(info.runtime).toBe('tfjs-wasm');
  });

  it('refuses a backend it cannot start instead of falling back', async () => {
    const other = new EngineClient();
    try {
      await expect(other.call('init', { backend: 'tensorflow', threads: 0 })).rejects.toThrow(/tensorflow.*cannot start/);
    } finally {
      await other.close();
    }
  });

  it('classifies in batches: same answer whatever the batch size', async () => {
    const inputs = images(5, 1);
    const one = await engine.call('classify', { inputs, batch: 1 });
    const all = await engine.call('classify', { inputs, batch: 5 });
    expect(one.probabilities).toHaveLength(5);
    for (let i = 0; i < 5; i++) {
      expect(one.probabilities[i].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      for (let c = 0; c < 4; c++) expect(all.probabilities[i][c]).toBeCloseTo(one.probabilities[i][c], 5);
    }
  });

  it('keeps memory flat over a 1,000-image run', async () => {
    await engine.call('classify', { inputs: images(64, 2), batch: 16 }); // warm-up: buffers at their largest
    const before = await engine.call('memory', {});
    let progressEvents = 0;
    for (let k = 0; k < 10; k++) {
      await engine.call('classify', { inputs: images(100, 10 + k), batch: 16 }, () => progressEvents++);
    }
    const after = await engine.call('memory', {});
    expect(progressEvents).toBe(10 * Math.ceil(100 / 16));
    expect(after.tensors).toBe(before.tensors);
    expect(after.tensorBytes).toBe(before.tensorBytes);
    expect(after.wasmHeap).toBe(before.wasmHeap);
  });

  it('cancels a long call between batches', async () => {
    let seen = 0;
    const handle = engine.start('classify', { inputs: images(200, 3), batch: 1 }, () => {
      seen++;
      if (seen === 2) handle.cancel();
    });
    await expect(handle.result).rejects.toBeInstanceOf(CancelledError);
    expect(seen).toBeLessThan(200);
    // The engine still answers afterwards.
    const ok = await engine.call('classify', { inputs: images(1, 4), batch: 1 });
    expect(ok.probabilities).toHaveLength(1);
  });

  it('turns a bad bundle into an error naming the file, and keeps working', async () => {
    await expect(engine.call('load', { modelDir: '/nonexistent/bundle' })).rejects.toThrow(/manifest\.json: missing/);
    const ok = await engine.call('classify', { inputs: images(1, 5), batch: 1 });
    expect(ok.probabilities).toHaveLength(1);
  });

  it('closes by releasing its ONNX Runtime sessions and ending the thread, also in the middle of a call', async () => {
    const other = new EngineClient();
    await other.call('init', { backend: 'wasm', threads: 1, runtime: 'onnx' });
    expect((await other.call('load', { modelDir: bundleDir })).runtime).toMatch(/onnx/i);
    const running = other.start('classify', { inputs: images(300, 6), batch: 1 });
    running.result.catch(() => undefined);
    expect(await other.close()).toBe('released');
    await expect(other.call('classify', { inputs: images(1, 7), batch: 1 })).rejects.toThrow(/closed/);
    expect(await other.close()).toBe('already ended');
  });

  it('fails a call the worker never answered because it ended first, instead of leaving it waiting', async () => {
    const other = new EngineClient();
    await other.call('init', { backend: 'wasm', threads: 1, runtime: 'tfjs' });
    await other.call('load', { modelDir: bundleDir });
    // Started just before the close (the app quitting as the predictor sends a slide): the call reaches the
    // worker after its shutdown, so the worker ends without answering it.
    const running = other.start('classify', { inputs: images(2, 10), batch: 2 });
    const settled = running.result.then(
      () => 'answered',
      (e: Error) => e.message,
    );
    expect(await other.close()).toBe('released');
    expect(await settled).toMatch(/closed/);
  });

  it('replaces a worker that died with one holding the same backend and model; gives up after three restarts in ten minutes', async () => {
    const warnings: string[] = [];
    const other = new EngineClient({ onLog: (_, m) => warnings.push(m) });
    const kill = () => (other as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    try {
      await other.call('init', { backend: 'wasm', threads: 1, runtime: 'tfjs' });
      await other.call('load', { modelDir: bundleDir });
      const input = images(2, 8);
      const before = await other.call('classify', { inputs: input, batch: 2 });
      const running = other.call('classify', { inputs: images(400, 9), batch: 1 });
      await kill();
      await expect(running).rejects.toThrow(/exited/);
      const after = await other.call('classify', { inputs: input, batch: 2 });
      expect(after.probabilities.map((p) => Array.from(p))).toEqual(before.probabilities.map((p) => Array.from(p)));
      expect(warnings.some((w) => /exited.*restarting it/.test(w))).toBe(true);
      expect(warnings).toContain('the engine is running again with its model');
      for (let i = 0; i < 2; i++) {
        await kill();
        expect((await other.call('classify', { inputs: input, batch: 2 })).probabilities).toHaveLength(2);
      }
      await kill();
      await expect(other.call('classify', { inputs: input, batch: 2 })).rejects.toThrow(/not restarted again/);
    } finally {
      await other.close();
    }
  });
});

// `npm run bench:predict [-- DIR] [--images N] [--batch N]`: `predict`'s throughput against the bare forward
// passes of the same model (issue #37: goal ≥ 70 %). Bare: session.run alone on the loaded model's exported
// graph, at predict's batch, with as many views an image as predict runs (8 with test-time augmentation).
// predict: the whole command over the images (read, sha256, decode, resize, the views, the out-of-distribution
// check, one CSV line each), timed from its first result to its last, and whole (engine start and load too).
// Images: DIR (default ../shared/data/taleqani/Pre, else the C-NMC fixtures), the first N (default 400).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { EngineClient } from '../src/engine/client.js';
import { hasImageExtension } from '../src/ingest/image.js';
import { runPredict } from '../src/headless/predict.js';
import { markdownTable } from '../src/bench/table.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { images: { type: 'string' }, batch: { type: 'string' } } });
const shared = path.resolve('../shared/data/taleqani/Pre');
const source = positionals[0] ?? ((await fs.stat(shared).catch(() => null)) ? shared : path.resolve('fixtures/cnmc/all'));

/** The first N images of the source, linked into a folder of their own (predict takes folders). */
async function imageFolder(config: ReturnType<typeof loadConfig>, wanted: number): Promise<{ dir: string; count: number }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slidetriage-bench-predict-'));
  const files = (await fs.readdir(source))
    .filter((f) => hasImageExtension(f, config.images.extensions))
    .sort()
    .slice(0, wanted);
  for (const f of files) await fs.copyFile(path.join(source, f), path.join(dir, f));
  return { dir, count: files.length };
}

/** Images a second of the bare forward passes: median of 10 runs of `batch` images × views. */
async function bareImagesPerSecond(config: ReturnType<typeof loadConfig>, batch: number, views: number): Promise<{ perSecond: number; runtime: string }> {
  const engine = new EngineClient();
  try {
    await engine.call('init', { backend: config.backend, threads: 0, runtime: config.runtime });
    const model = await engine.call('load', { modelDir: config.model });
    const { msPerRun } = await engine.call('benchForward', { variant: 'loaded', size: 0, batch: batch * views, runs: 10, runtime: 'onnx-bare' });
    const median = [...msPerRun].sort((a, b) => a - b)[Math.floor(msPerRun.length / 2)];
    return { perSecond: (batch * 1000) / median, runtime: model.runtime };
  } finally {
    await engine.close();
  }
}

/** predict over the folder: images a second from its first result line to its last, and over the whole command. */
async function predictImagesPerSecond(config: ReturnType<typeof loadConfig>, dir: string, count: number, batch: number) {
  const stamps: number[] = [];
  const t0 = performance.now();
  const out = { stdout: () => void stamps.push(performance.now()), info: () => {}, error: (line: string) => console.error(line) };
  const code = await runPredict(config, { paths: [dir], format: 'csv', batch }, out);
  const whole = performance.now() - t0;
  if (code !== 0 || stamps.length < 3) throw new Error(`predict failed (exit ${code}, ${stamps.length} lines)`);
  // The first line is the CSV header, written with the first result.
  const steady = (stamps.length - 2) / ((stamps.at(-1)! - stamps[1]) / 1000);
  return { steady, whole: (count * 1000) / whole };
}

async function main() {
  const config = loadConfig({ cwd: process.cwd() });
  const batch = Number(values.batch ?? config.predict.batch);
  const views = config.predict.tta ? 8 : 1;
  const { dir, count } = await imageFolder(config, Number(values.images ?? 400));
  const bare = await bareImagesPerSecond(config, batch, views);
  const predict = await predictImagesPerSecond(config, dir, count, batch);
  await fs.rm(dir, { recursive: true, force: true });
  console.log(`${count} images from ${source}, batch ${batch}, ${views} view${views > 1 ? 's' : ''} an image, ${bare.runtime}, ${os.cpus().length} cores\n`);
  const pct = (x: number) => `${((100 * x) / bare.perSecond).toFixed(0)}%`;
  console.log(
    markdownTable(
      ['', 'images/s', 'of bare'],
      [
        ['bare forward passes (session.run alone)', bare.perSecond.toFixed(1), '100%'],
        ['predict, first result to last', predict.steady.toFixed(1), pct(predict.steady)],
        ['predict, whole command (engine start and load too)', predict.whole.toFixed(1), pct(predict.whole)],
      ],
    ),
  );
  console.log(`\ngoal: predict ≥ 70% of the bare passes' throughput`);
}

await main();

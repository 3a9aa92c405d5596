// `npm run bench:pipeline [-- DIR] [--slides N] [--model DIR]`: where a slide's time goes in the app's
// pipeline (issue #37), stage by stage: the app's own Predictor (app/predictor.ts) over slides recorded as the
// watcher records them, its stages timed by its timer hook (read the slide's bytes and check its sha256,
// decode, resize, the engine's explain call, the PNG overlays, the store's write). A slide's overlays and
// write overlap the next slide's explain call, so the stages add up to more than the run's time. The forward
// passes alone are timed too (a classify call on the same input), so that the maps' share shows. Images: DIR
// (default ../shared/data/taleqani/Pre, else the C-NMC fixtures). Goal: ≥ 5 slides/s per process on 2 cores.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { EngineClient } from '../src/engine/client.js';
import { loadSlide, PIPELINE_STAGES, Predictor, type PipelineStage } from '../src/app/predictor.js';
import { hasImageExtension } from '../src/ingest/image.js';
import { openStore } from '../src/store/store.js';
import { markdownTable } from '../src/bench/table.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { slides: { type: 'string' }, model: { type: 'string' } } });
const shared = path.resolve('../shared/data/taleqani/Pre');
const source = positionals[0] ?? ((await fs.stat(shared).catch(() => null)) ? shared : path.resolve('fixtures/cnmc/all'));
const slidesWanted = Number(values.slides ?? 40);

/** A store in a temporary folder with the images in its incoming folder, recorded as the watcher would. */
async function setup() {
  const cwd = await fs.mkdtemp(path.join(os.tmpdir(), 'slidetriage-bench-pipeline-'));
  const config = loadConfig({ cwd, overrides: { ...(values.model ? { model: path.resolve(values.model) } : {}) } });
  await fs.mkdir(config.incoming, { recursive: true });
  const files = (await fs.readdir(source)).filter((f) => hasImageExtension(f, config.images.extensions)).sort();
  const picked = files.slice(0, slidesWanted);
  const store = await openStore(config.store);
  const slides = [];
  for (const [i, f] of picked.entries()) {
    const bytes = await fs.readFile(path.join(source, f));
    await fs.writeFile(path.join(config.incoming, f), bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    slides.push({ sha256, path: f });
    await store.importRecords({
      slides: [{ sha256, path: f, width: 0, height: 0, addedAt: new Date(1e12 + i).toISOString() }],
      files: [{ path: f, state: 'queued', sha256, duplicateOf: null, code: null, reason: null, size: bytes.length, mtimeMs: 1, seenAt: '' }],
    });
  }
  return { config, store, slides, cwd };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];

async function main() {
  const { config, store, slides, cwd } = await setup();
  const engine = new EngineClient();
  await engine.call('init', { backend: config.backend, threads: 0, runtime: config.runtime });
  const model = await engine.call('load', { modelDir: config.model });
  const times = new Map<PipelineStage | 'forward alone', number[]>([...PIPELINE_STAGES, 'forward alone' as const].map((s) => [s, []]));
  const predictor = new Predictor(config, engine, store, model, (stage, ms) => times.get(stage)!.push(ms));
  let failed = 0;
  const recorded: number[] = [];
  predictor.on('predicted', () => void recorded.push(performance.now()));
  predictor.on('error', (sha, message) => void (failed++, console.error(`${sha.slice(0, 12)}: ${message}`)));
  const wall0 = performance.now();
  await predictor.kick();
  const wall = performance.now() - wall0;
  predictor.stop();
  // The forward passes alone, after the pipeline: the same inputs, the same views, no maps.
  for (const slide of slides.slice(0, 10)) {
    const { input } = await loadSlide(config, slide, model);
    const t0 = performance.now();
    await engine.call('classify', { inputs: [input], batch: 8, tta: config.predict.tta });
    times.get('forward alone')!.push(performance.now() - t0);
  }
  await engine.close();
  await store.close();
  await fs.rm(cwd, { recursive: true, force: true });
  const m = (s: PipelineStage | 'forward alone') => median(times.get(s)!);
  const total = PIPELINE_STAGES.reduce((sum, s) => sum + m(s), 0);
  const row = (label: string, s: PipelineStage | 'forward alone') => [label, m(s).toFixed(1), p95(times.get(s)!).toFixed(1), `${((m(s) / total) * 100).toFixed(0)}%`];
  console.log(
    `${slides.length} slides from ${source} (${model.id}, ${model.runtime ?? 'tfjs'}; ${config.predict.tta ? '8 views' : '1 view'}; maps ${config.explain.slideMethods.join(', ')}; ${os.availableParallelism()} cores)\n`,
  );
  console.log(
    markdownTable(['stage', 'median ms', 'p95 ms', 'share of a slide'], [...PIPELINE_STAGES.map((s) => row(s, s)), row('of which the forward passes (a classify call alone)', 'forward alone')]),
  );
  const done = slides.length - failed;
  // The first slide also sets up ONNX Runtime's gradient graph (once per model): the rate from its record on.
  const steady = (recorded.length - 1) / ((recorded.at(-1)! - recorded[0]) / 1000);
  console.log(`\n${done} slides in ${(wall / 1000).toFixed(1)} s${failed ? ` (${failed} failed)` : ''}: ${(done / (wall / 1000)).toFixed(2)} slides/s over the run,`);
  console.log(`${steady.toFixed(2)} slides/s after the first (first recorded at ${(recorded[0] - wall0).toFixed(0)} ms); goal ≥ 5 slides/s`);
}

await main();

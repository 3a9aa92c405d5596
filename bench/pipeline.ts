// `npm run bench:pipeline [-- DIR] [--slides N] [--model DIR]`: where a slide's time goes in the app's
// pipeline (issue #37), stage by stage, as the predictor runs them (app/predictor.ts classifySlide): read
// the slide's bytes (and check its sha256), decode, resize (the model input and the kept 256 px copy), the
// engine's explain call (the forward passes with the configured views, and the slide's maps), the PNG
// overlays, and the store's write. The forward passes alone are timed too (a classify call on the same
// input), so that the maps' share shows. Images: DIR (default ../shared/data/taleqani/Pre, else the
// C-NMC fixtures). Goal: ≥ 5 slides/s per process on 2 cores.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, storeFolder } from '../src/config.js';
import { EngineClient } from '../src/engine/client.js';
import { writeOverlays } from '../src/app/predictor.js';
import { argmax, probabilityRecord } from '../src/core/probabilities.js';
import { decodeRgb, hasImageExtension, imageFromBytes, resizeRgb, toModelInput } from '../src/ingest/image.js';
import { readSlideBytes, slideCopiesDir } from '../src/store/slide-copies.js';
import { openStore } from '../src/store/store.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { slides: { type: 'string' }, model: { type: 'string' } } });
const shared = path.resolve('../shared/data/taleqani/Pre');
const source = positionals[0] ?? ((await fs.stat(shared).catch(() => null)) ? shared : path.resolve('fixtures/cnmc/all'));
const slidesWanted = Number(values.slides ?? 40);

const STAGES = ['read + sha256', 'decode', 'resize', 'explain (forward + maps)', 'overlays (PNG)', 'store write'] as const;
type Stage = (typeof STAGES)[number];

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
  const times: Record<Stage | 'forward alone', number[]> = Object.fromEntries([...STAGES, 'forward alone'].map((s) => [s, []])) as never;
  const timed = async <T>(stage: Stage | 'forward alone', run: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await run();
    times[stage].push(performance.now() - t0);
    return out;
  };
  const wall0 = performance.now();
  for (const slide of slides) {
    const { file, bytes } = await timed('read + sha256', () => readSlideBytes(slideCopiesDir(storeFolder(config)), config.incoming, slide));
    const rgb = await timed('decode', () => decodeRgb(imageFromBytes(file, bytes, config.images), config.images));
    const { input, shown } = await timed('resize', async () => ({
      input: await toModelInput(rgb, model.inputSize, model.resize),
      shown: { width: 256, height: 256, data: await resizeRgb(rgb, 256, model.resize) },
    }));
    const result = await timed('explain (forward + maps)', () => engine.call('explain', { image: input, methods: [...config.explain.slideMethods], tta: config.predict.tta }));
    const explanations = await timed('overlays (PNG)', () => writeOverlays(config, slide.sha256, model, shown, result.heatmaps));
    const probabilities = probabilityRecord(model.classes, result.probabilities);
    const prediction = { modelId: model.id, label: model.classes[argmax(result.probabilities)], probabilities, at: new Date().toISOString(), explanations, ood: result.ood };
    await timed('store write', () => store.addPrediction(slide.sha256, prediction));
  }
  const wall = performance.now() - wall0;
  // The forward passes alone, after the pipeline: the same inputs, the same views, no maps.
  for (const slide of slides.slice(0, 10)) {
    const { file, bytes } = await readSlideBytes(slideCopiesDir(storeFolder(config)), config.incoming, slide);
    const input = await toModelInput(await decodeRgb(imageFromBytes(file, bytes, config.images), config.images), model.inputSize, model.resize);
    await timed('forward alone', () => engine.call('classify', { inputs: [input], batch: 8, tta: config.predict.tta }));
  }
  await engine.close();
  await store.close();
  await fs.rm(cwd, { recursive: true, force: true });
  const total = STAGES.reduce((sum, s) => sum + median(times[s]), 0);
  console.log(
    `${slides.length} slides from ${source} (${model.id}, ${model.runtime ?? 'tfjs'}; ${config.predict.tta ? '8 views' : '1 view'}; maps ${config.explain.slideMethods.join(', ')}; ${os.availableParallelism()} cores)\n`,
  );
  console.log('| stage | median ms | p95 ms | share of a slide |');
  console.log('|---|---|---|---|');
  for (const s of STAGES) console.log(`| ${s} | ${median(times[s]).toFixed(1)} | ${p95(times[s]).toFixed(1)} | ${((median(times[s]) / total) * 100).toFixed(0)}% |`);
  const forward = median(times['forward alone']);
  console.log(`| of which the forward passes (a classify call alone) | ${forward.toFixed(1)} | ${p95(times['forward alone']).toFixed(1)} | ${((forward / total) * 100).toFixed(0)}% |`);
  console.log(`\n${(slides.length / (wall / 1000)).toFixed(2)} slides/s over the run (${(wall / 1000).toFixed(1)} s); goal ≥ 5 slides/s`);
}

await main();

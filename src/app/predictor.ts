// Classifies new slides in the background: each slide's image goes to the engine worker, which returns the
// probabilities with the slide maps (explain.slideMethods); the overlays and the cells under the default map
// are written beside the store and the prediction is recorded. One slide in the engine at a time, so the UI
// and the technician's own requests stay quick; the slide before it is written meanwhile.
import { EventEmitter } from 'node:events';
import type { Config } from '../config.js';
import { storeFolder } from '../config.js';
import type { EngineClient } from '../engine/client.js';
import { EVIDENCE_KEY, evidenceBoxes } from '../core/evidence.js';
import { argmax } from '../core/probabilities.js';
import { probabilityRecord } from '../core/probabilities.js';
import type { CallResult, ModelInfo } from '../engine/protocol.js';
import { decodeRgb, imageFromBytes, resizeRgb, toModelInput, type RgbImage } from '../ingest/image.js';
import type { SlideStore } from '../store/types.js';
import type { Prediction, Slide } from '../store/schema.js';
import { readSlideBytes, slideCopiesDir } from '../store/slide-copies.js';
import { writeEvidence, writeOverlays } from './explanation-files.js';

/** Side of the overlay images kept for the terminal: far more than a terminal can show. */
const OVERLAY_SIDE = 256;

export interface PredictorEvents {
  /** A slide classified; unusual: its out-of-distribution check flagged it. */
  predicted: [sha256: string, unusual: boolean];
  error: [sha256: string, message: string];
  idle: [];
}

/** The stages of a slide through the pipeline, as `bench:pipeline` times them. */
export type PipelineStage = 'read + sha256' | 'decode' | 'resize' | 'explain (forward + maps)' | 'overlays (PNG)' | 'store write';
export const PIPELINE_STAGES: readonly PipelineStage[] = ['read + sha256', 'decode', 'resize', 'explain (forward + maps)', 'overlays (PNG)', 'store write'];
/** Told each stage's time of each slide (bench:pipeline); the app passes none. */
export type StageTimer = (stage: PipelineStage, ms: number) => void;

async function timed<T>(timer: StageTimer | undefined, stage: PipelineStage, run: () => Promise<T>): Promise<T> {
  if (!timer) return run();
  const t0 = performance.now();
  const out = await run();
  timer(stage, performance.now() - t0);
  return out;
}

/**
 * Reads a slide — the store's copy, or its incoming file while that still has the slide's sha256 — and
 * prepares both the model input and a display-size copy.
 */
export async function loadSlide(config: Config, slide: Pick<Slide, 'sha256' | 'path'>, model: ModelInfo, timer?: StageTimer): Promise<{ input: Float32Array; shown: RgbImage; original: RgbImage }> {
  const { file, bytes } = await timed(timer, 'read + sha256', () => readSlideBytes(slideCopiesDir(storeFolder(config)), config.incoming, slide));
  const rgb = await timed(timer, 'decode', () => decodeRgb(imageFromBytes(file, bytes, config.images), config.images));
  return timed(timer, 'resize', async () => ({
    input: await toModelInput(rgb, model.inputSize, model.resize),
    shown: { width: OVERLAY_SIDE, height: OVERLAY_SIDE, data: await resizeRgb(rgb, OVERLAY_SIDE, model.resize) },
    original: rgb,
  }));
}

/**
 * The slide at its own resolution, squared the way the model sees it, for the zoom:
 * the kept overlays are 256 px, and a sixel or kitty terminal can show more than that.
 */
export async function loadOriginal(config: Config, slide: Pick<Slide, 'sha256' | 'path'>, resize: ModelInfo['resize']): Promise<RgbImage> {
  const { file, bytes } = await readSlideBytes(slideCopiesDir(storeFolder(config)), config.incoming, slide);
  const rgb = await decodeRgb(imageFromBytes(file, bytes, config.images), config.images);
  const side = Math.max(rgb.width, rgb.height);
  return { width: side, height: side, data: await resizeRgb(rgb, side, resize) };
}

type Explained = { input: Float32Array; shown: RgbImage; original: RgbImage; result: CallResult<'explain'> };

/** A slide read and explained: the engine's probabilities and slide maps, with the display copy. */
async function explainSlide(config: Config, engine: EngineClient, model: ModelInfo, slide: Pick<Slide, 'sha256' | 'path'>, timer?: StageTimer): Promise<Explained> {
  const { input, shown, original } = await loadSlide(config, slide, model, timer);
  const methods = [...config.explain.slideMethods];
  const result = await timed(timer, 'explain (forward + maps)', () => engine.call('explain', { image: input, methods, tta: config.predict.tta }));
  return { input, shown, original, result };
}

/** The overlays of an explained slide written, and the prediction to record. */
async function predictionOf(config: Config, model: ModelInfo, sha256: string, { input, shown, original, result }: Explained, timer?: StageTimer): Promise<Prediction> {
  const explanations = await timed(timer, 'overlays (PNG)', async () => {
    const files = await writeOverlays(config, sha256, model, shown, result.heatmaps);
    // The cells under the default map (the first slide method's), with their crops.
    const first = result.heatmaps[0];
    if (!first) return files;
    return { ...files, [EVIDENCE_KEY]: await writeEvidence(config, sha256, model, evidenceBoxes(first.values, input, first.size), original) };
  });
  const probabilities = probabilityRecord(model.classes, result.probabilities);
  return { modelId: model.id, label: model.classes[argmax(result.probabilities)], probabilities, at: new Date().toISOString(), explanations, ood: result.ood };
}

/** Classifies one slide with its slide methods' maps and writes the overlays: the prediction to record. */
export async function classifySlide(config: Config, engine: EngineClient, model: ModelInfo, slide: Pick<Slide, 'sha256' | 'path'>): Promise<Prediction> {
  return predictionOf(config, model, slide.sha256, await explainSlide(config, engine, model, slide));
}

export class Predictor extends EventEmitter<PredictorEvents> {
  private running = false;
  private stopped = false;
  private warmed = false;
  private readonly failed = new Set<string>();

  constructor(
    private readonly config: Config,
    private readonly engine: EngineClient,
    private readonly store: SlideStore,
    private readonly model: ModelInfo,
    private readonly timer?: StageTimer,
  ) {
    super();
  }

  /**
   * Looks for slides without a prediction from this model and works through them: a slide's overlays and
   * store write go on while the engine explains the next one (docs/engine.md: bench:pipeline).
   */
  async kick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    let writing: { sha256: string; done: Promise<void> } | null = null;
    try {
      for (;;) {
        if (this.stopped) return;
        // After a model change only the unconfirmed slides are re-scored; labelled ones keep the
        // prediction their decision was made on.
        const candidates = await this.store.unpredicted(this.model.id, this.failed.size + 2);
        const next = candidates.find((s) => !this.failed.has(s.sha256) && s.sha256 !== writing?.sha256);
        if (!next) break;
        let explained: Explained;
        try {
          explained = await explainSlide(this.config, this.engine, this.model, next, this.timer);
        } catch (err) {
          this.fail(next.sha256, err);
          continue;
        }
        if (this.stopped) break; // left to be scored by the next run, which starts where this one stopped
        await writing?.done; // one slide written at a time, in order
        writing = { sha256: next.sha256, done: this.record(next.sha256, explained) };
      }
      await writing?.done;
      this.emit('idle');
    } finally {
      await writing?.done;
      this.running = false;
    }
    void this.warmUp();
  }

  /** Writes an explained slide's overlays and records its prediction; a failure is the slide's, never thrown. */
  private async record(sha256: string, explained: Explained): Promise<void> {
    try {
      const prediction = await predictionOf(this.config, this.model, sha256, explained, this.timer);
      await timed(this.timer, 'store write', () => this.store.addPrediction(sha256, prediction));
      this.emit('predicted', sha256, prediction.ood?.unusual === true);
    } catch (err) {
      this.fail(sha256, err);
    }
  }

  private fail(sha256: string, err: unknown): void {
    this.failed.add(sha256);
    this.emit('error', sha256, (err as Error).message);
  }

  /**
   * The first Integrated Gradients on a model sets up ONNX Runtime's gradient graph: 8.3 s for the first
   * map at 224 px here, 1.4 s after. Done once the slides waiting are scored (on a blank image, the result
   * unused), so that the technician's first `x` does not pay for it; a slide arriving meanwhile waits.
   */
  private async warmUp(): Promise<void> {
    // Only pixel-level IG runs on that graph (ig14 integrates in the 14 × 14 map's activations, on tfjs).
    if (this.warmed || this.stopped || !this.config.explain.methods.includes('ig')) return;
    this.warmed = true;
    const side = this.model.inputSize;
    await this.engine.call('explain', { image: new Float32Array(side * side * 3), methods: ['ig'], options: { ig: { ...this.config.explain.ig } } }).catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
  }
}

// `slidetriage predict`: one result line per image, one error line per rejected file.
import path from 'node:path';
import type { Config } from '../config.js';
import type { ModelInfo } from '../engine/protocol.js';
import { ImageRejected, prepareImage, type PreparedImage } from '../ingest/image.js';
import { expandPaths } from './files.js';
import type { Output } from './output.js';
import { withEngine } from './with-engine.js';
import { probabilityRecord } from '../core/probabilities.js';
import { argmax } from '../core/probabilities.js';
import { csvField, safeJson, visible } from '../core/safe-text.js';
import type { OodCheck } from '../engine/ood/knn.js';

export type PredictFormat = 'text' | 'json' | 'csv';

export interface PredictOptions {
  paths: string[];
  format: PredictFormat;
  batch: number;
}

export interface PredictRow {
  path: string;
  sha256: string;
  label: string;
  probabilities: Record<string, number>;
  model: string;
  ms: number;
  /** Distance from the training images and whether it is past the model's threshold (null: the model has no index). */
  ood: OodCheck | null;
}

export interface RejectRow {
  path: string;
  error: { code: string; message: string };
}

class Printer {
  private headerDone = false;
  constructor(
    private readonly out: Output,
    private readonly format: PredictFormat,
    private readonly classes: string[],
  ) {}

  result(r: PredictRow) {
    if (this.format === 'json') return this.out.stdout(safeJson(r));
    if (this.format === 'csv') {
      this.header();
      const ood = r.ood ? [r.ood.distance.toFixed(4), r.ood.unusual ? 'yes' : 'no'] : ['', ''];
      return this.out.stdout([r.path, r.sha256, r.label, ...this.classes.map((c) => r.probabilities[c].toFixed(6)), r.model, r.ms.toFixed(1), ...ood, ''].map(csvField).join(','));
    }
    const probs = this.classes.map((c) => `${visible(c)} ${r.probabilities[c].toFixed(3)}`).join('  ');
    const warning = r.ood?.unusual ? `\tUNLIKE THE TRAINING IMAGES (distance ${r.ood.distance.toFixed(3)} > ${r.ood.threshold.toFixed(3)}): check by eye` : '';
    this.out.stdout(`${visible(r.path)}\t${visible(r.label)}\t${probs}\t${r.ms.toFixed(0)} ms${warning}`);
  }

  reject(r: RejectRow) {
    if (this.format === 'json') return this.out.stdout(safeJson(r));
    if (this.format === 'csv') {
      this.header();
      return this.out.stdout([r.path, '', '', ...this.classes.map(() => ''), '', '', '', '', `${r.error.code}: ${r.error.message}`].map(csvField).join(','));
    }
    this.out.stdout(`${visible(r.path)}\tREJECTED\t${r.error.code}: ${visible(r.error.message)}`);
  }

  private header() {
    if (this.headerDone) return;
    this.headerDone = true;
    this.out.stdout(['path', 'sha256', 'label', ...this.classes.map((c) => `p_${c}`), 'model', 'ms', 'ood_distance', 'unusual', 'error'].map(csvField).join(','));
  }
}

/** Runs a prediction over files and folders. Returns the exit code: 0 done (rejections included), 1 failed. */
export async function runPredict(config: Config, opts: PredictOptions, out: Output): Promise<number> {
  return withEngine(config, out, 'predict', async (engine) => {
    let model: ModelInfo;
    try {
      model = await engine.call('load', { modelDir: config.model });
    } catch (err) {
      out.error(`cannot load the model: ${(err as Error).message}`);
      if (path.resolve(config.model).endsWith(path.join('models', 'default'))) {
        out.error('the shipped default model is missing or damaged in this checkout (git checkout models/default restores it); or pass --model DIR.');
      }
      return 1;
    }
    out.info(`model ${model.id} (${model.variant}, ${model.inputSize} px, classes ${model.classes.join(', ')}) on ${model.runtime}${config.predict.tta ? ', 8-view test-time augmentation' : ''}`);
    const printer = new Printer(out, opts.format, model.classes);
    const { files, missing } = await expandPaths(opts.paths);
    for (const m of missing) printer.reject({ path: m.path, error: { code: 'missing', message: m.reason } });

    const limits = config.images;
    const prepare = async (file: string): Promise<{ image: PreparedImage; ms: number } | RejectRow> => {
      const t0 = performance.now();
      try {
        const image = await prepareImage(file, limits, model.inputSize, model.resize);
        return { image, ms: performance.now() - t0 };
      } catch (err) {
        if (err instanceof ImageRejected) return { path: file, error: { code: err.code, message: err.message } };
        return { path: file, error: { code: 'error', message: (err as Error).message } };
      }
    };
    // Decode batch k+1 while the engine classifies batch k; only two batches are ever in memory.
    const decodeBatch = (start: number) => Promise.all(files.slice(start, start + opts.batch).map(prepare));
    let next = files.length ? decodeBatch(0) : null;
    for (let start = 0; next && !out.stopped?.aborted; start += opts.batch) {
      const decoded = await next;
      next = start + opts.batch < files.length ? decodeBatch(start + opts.batch) : null;
      const good = decoded.filter((d): d is { image: PreparedImage; ms: number } => 'image' in d);
      const result = good.length ? await engine.call('classify', { inputs: good.map((g) => g.image.input), batch: opts.batch, tta: config.predict.tta }) : null;
      let k = 0;
      for (const d of decoded) {
        if (!('image' in d)) {
          printer.reject(d);
          continue;
        }
        const ood = result!.ood[k];
        const p = result!.probabilities[k++];
        printer.result({
          path: d.image.path,
          sha256: d.image.sha256,
          label: model.classes[argmax(p)],
          probabilities: probabilityRecord(model.classes, p),
          model: model.id,
          ms: Number((d.ms + result!.ms / good.length).toFixed(1)),
          ood: ood && { distance: Number(ood.distance.toFixed(4)), threshold: Number(ood.threshold.toFixed(4)), unusual: ood.unusual },
        });
      }
    }
    return 0;
  });
}

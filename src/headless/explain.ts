// `slidetriage explain FILE… --methods ig14,cam,lime --out DIR`: overlays as PNG, figures as JSON.
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Config } from '../config.js';
import { METHOD_NAMES } from '../core/explanation-methods.js';
import { overlay, pngOf } from '../core/overlay.js';
import { ensureDir, writePrivate } from '../store/files.js';
import { decodeRgb, ImageRejected, readImageFile, toModelInput } from '../ingest/image.js';
import { expandPaths } from './files.js';
import type { Output } from './output.js';
import { withEngine } from './with-engine.js';
import { probabilityRecord } from '../core/probabilities.js';

/** Longest side of the written overlays: enough to see a cell, small enough to open anywhere. */
const OVERLAY_SIDE = 512;

export function parseMethods(raw: string | undefined, fallback: string[]): string[] {
  const methods = raw
    ? raw
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean)
    : fallback;
  const unknown = methods.filter((m) => !(METHOD_NAMES as readonly string[]).includes(m));
  if (unknown.length || !methods.length) throw new Error(`--methods takes a comma-separated list of ${METHOD_NAMES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`);
  return methods;
}

export async function runExplain(config: Config, files: string[], methods: string[], outDir: string, out: Output, force = false): Promise<number> {
  if (!force && (await fs.readdir(outDir).catch(() => [])).length) {
    out.error(`${outDir} is not empty: explain would replace same-named overlays there. Name an empty or new folder, or add --force to write into this one.`);
    return 2;
  }
  return withEngine(config, out, 'explain', async (engine) => {
    const model = await engine.call('load', { modelDir: config.model }).catch((err: Error) => {
      out.error(`cannot load the model: ${err.message}`);
      return null;
    });
    if (!model) return 1;
    await ensureDir(outDir);
    const { files: list, missing } = await expandPaths(files);
    for (const m of missing) out.stdout(`${m.path}\tREJECTED\tmissing: ${m.reason}`);
    const options = { lime: { ...config.explain.lime }, ig: { ...config.explain.ig } };
    for (const file of list) {
      let rgb;
      let input;
      try {
        const read = await readImageFile(file, config.images);
        rgb = await decodeRgb(read, config.images);
        input = await toModelInput(rgb, model.inputSize, model.resize);
      } catch (err) {
        out.stdout(`${file}\tREJECTED\t${err instanceof ImageRejected ? `${err.code}: ` : ''}${(err as Error).message}`);
        continue;
      }
      const result = await engine.call('explain', { image: input, methods, options });
      const scale = Math.min(1, OVERLAY_SIDE / Math.max(rgb.width, rgb.height));
      const width = Math.max(1, Math.round(rgb.width * scale));
      const height = Math.max(1, Math.round(rgb.height * scale));
      const shown = {
        width,
        height,
        data: await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
          .resize(width, height, { fit: 'fill' })
          .raw()
          .toBuffer(),
      };
      const stem = path.basename(file).replace(/\.[^.]+$/, '');
      const written: Record<string, string> = {};
      for (const h of result.heatmaps) {
        const png = path.join(outDir, `${stem}.${h.method}.png`);
        await writePrivate(png, await pngOf(await overlay(shown, h.values, h.size, config.explain.colormap, config.explain.alpha), width, height));
        written[h.method] = png;
      }
      const summary = {
        file,
        model: model.id,
        label: model.classes[result.target],
        probabilities: probabilityRecord(model.classes, result.probabilities),
        ood: result.ood,
        explanations: result.heatmaps.map((h) => ({ method: h.method, png: written[h.method], ms: Math.round(h.ms), params: h.params, diagnostics: h.diagnostics })),
      };
      await writePrivate(path.join(outDir, `${stem}.json`), JSON.stringify(summary, null, 2) + '\n');
      const warning = result.ood?.unusual ? '\tUNLIKE THE TRAINING IMAGES: check by eye' : '';
      out.stdout(`${file}\t${summary.label}\t${result.heatmaps.map((h) => `${h.method} ${Math.round(h.ms)} ms`).join(', ')}${warning}`);
    }
    return 0;
  });
}

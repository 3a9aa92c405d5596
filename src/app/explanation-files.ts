// The files a slide's prediction keeps beside the store, under explanations/: the slide at 256 px and one
// overlay per map (PNG), and the cells under the default map (a JSON list of boxes, and each cell's crop).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { storeFolder } from '../config.js';
import { overlay, pngOf } from '../core/overlay.js';
import { EVIDENCE_KEY, type EvidenceBox, type EvidenceCell } from '../core/evidence.js';
import { cropPng } from '../core/evidence-pixels.js';
import { ensureDir, refuseLinks, writePrivate } from '../store/files.js';
import type { Heatmap } from '../engine/explain/types.js';
import type { ModelInfo } from '../engine/protocol.js';
import type { RgbImage } from '../ingest/image.js';
import type { Prediction } from '../store/schema.js';

export function explanationDir(config: Config): string {
  return path.join(storeFolder(config), 'explanations');
}

/** The stem of a slide's files under explanations/: its sha256's start and the model's hash. */
function fileStem(sha256: string, model: ModelInfo): string {
  return `${sha256.slice(0, 16)}.${model.id.split('@')[1] ?? 'model'}`;
}

/**
 * Writes the cells under the default map (core/evidence.ts) beside the overlays: each cell's crop from the
 * original, 2×, and a JSON list of the boxes with their crops' files; returns the list's file, relative to the
 * store folder.
 */
export async function writeEvidence(config: Config, sha256: string, model: ModelInfo, boxes: EvidenceBox[], original: RgbImage): Promise<string> {
  const stem = path.join(explanationDir(config), fileStem(sha256, model));
  const rel = (file: string) => path.relative(storeFolder(config), file);
  const cells: EvidenceCell[] = await Promise.all(
    boxes.map(async (b, i) => {
      const crop = `${stem}.cell${i + 1}.png`;
      await writePrivate(crop, await cropPng(original, b, model.resize));
      return { ...(Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Number(v.toFixed(4))])) as unknown as EvidenceBox), crop: rel(crop) };
    }),
  );
  await writePrivate(`${stem}.evidence.json`, JSON.stringify(cells));
  return rel(`${stem}.evidence.json`);
}

/** The cells a prediction's evidence file lists (none when it has none, or it cannot be read: the view goes without). */
export async function readEvidence(storeDir: string, prediction: Prediction | null): Promise<EvidenceCell[]> {
  const file = prediction?.explanations[EVIDENCE_KEY];
  if (!file) return [];
  try {
    const cells = JSON.parse(await fs.readFile(path.join(storeDir, file), 'utf8')) as EvidenceCell[];
    return Array.isArray(cells) ? cells.filter((c) => [c.x, c.y, c.w, c.h, c.share].every(Number.isFinite) && typeof c.crop === 'string') : [];
  } catch {
    return [];
  }
}

/** Writes the original and one overlay per heatmap; returns method → file (relative to the store folder). */
export async function writeOverlays(config: Config, sha256: string, model: ModelInfo, shown: RgbImage, heatmaps: Heatmap[]): Promise<Record<string, string>> {
  const dir = explanationDir(config);
  refuseLinks(storeFolder(config), dir);
  await ensureDir(dir);
  const stem = fileStem(sha256, model);
  // The original and each overlay encoded side by side: sharp encodes on its own threads.
  const pictures: Array<[string, () => Promise<Buffer>]> = [
    ['image', () => pngOf(shown.data, shown.width, shown.height)],
    ...heatmaps.map((h): [string, () => Promise<Buffer>] => [
      h.method,
      async () => pngOf(await overlay(shown, h.values, h.size, config.explain.colormap, config.explain.alpha), shown.width, shown.height),
    ]),
  ];
  const written = await Promise.all(
    pictures.map(async ([name, png]) => {
      const file = path.join(dir, `${stem}.${name}.png`);
      await writePrivate(file, await png());
      return [name, path.relative(storeFolder(config), file)] as const;
    }),
  );
  return Object.fromEntries(written);
}

// `slidetriage xai-eval`: the explanation quality table.
import path from 'node:path';
import type { Config } from '../config.js';
import type { XaiEvalResult, XaiRow } from '../engine/explain/evaluate.js';
import type { Estimate } from '../engine/explain/xai-stats.js';
import type { Output } from './output.js';
import { withEngine } from './with-engine.js';

const f = (x: number | null, digits = 3) => (x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));

/** "0.209 [0.180, 0.240]": a mean with its 95% interval over images. */
const withInterval = (e: Estimate | null) => (e ? `${f(e.mean)} [${f(e.low)}, ${f(e.high)}]` : '–');

/** "beats random-smooth: deletion +0.33 [0.29, 0.37], insertion +0.18 [0.12, 0.23]". */
function floorCell(x: XaiRow): string {
  const c = x.vsFloor;
  if (!c) return 'floor';
  const margin = (e: Estimate) => `${e.mean >= 0 ? '+' : ''}${f(e.mean)} [${f(e.low)}, ${f(e.high)}]`;
  return `${c.beatsFloor ? 'beats' : '**does not beat**'} ${c.floor}: deletion ${margin(c.deletionMargin)}, insertion ${margin(c.insertionMargin)}`;
}

export function xaiTable(r: XaiEvalResult): string[] {
  return [
    `model ${r.model}; ${r.images} images from ${r.source}; masks used ${r.masks.used}, near-empty skipped ${r.masks.skippedNearlyEmpty}, missing ${r.masks.missing}; 95% bootstrap intervals over images`,
    '| method | deletion AUC ↓ | insertion AUC ↑ | pointing game ↑ | mass in cell ↑ | rank corr. after randomisation ↓ | rank corr. run to run (next seed) ↑ | mass in scale-mark corner (1.5% of area) | ms / explanation | against its floor (paired, the same images) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map(
      (x) =>
        `| ${x.method} | ${withInterval(x.intervals.deletionAuc)} | ${withInterval(x.intervals.insertionAuc)} | ${withInterval(x.intervals.pointingGame)} | ${withInterval(x.intervals.relevanceMass)} | ${f(x.randomisationSpearman)}${x.randomisationConstant ? ` (${x.randomisationConstant} constant map(s) left out)` : ''} | ${x.runToRunSpearman === null ? '–' : f(x.runToRunSpearman)} | ${f(x.cornerMass)} | ${f(x.ms, 0)} | ${floorCell(x)} |`,
    ),
  ];
}

export interface XaiEvalOptions {
  dataDir: string;
  masksDir: string | null;
  limit: number;
  part: 'test' | 'val';
  methods: string[];
  json: boolean;
}

export async function runXaiEval(config: Config, o: XaiEvalOptions, out: Output): Promise<number> {
  return withEngine(config, out, 'xai-eval', async (engine) => {
    const model = await engine.call('load', { modelDir: config.model });
    out.info(`model ${model.id}`);
    const result = await engine.call(
      'xaiEval',
      {
        dataDir: path.resolve(o.dataDir),
        masksDir: o.masksDir ? path.resolve(o.masksDir) : null,
        limit: o.limit,
        part: o.part,
        methods: o.methods,
        seed: config.explain.lime.seed,
        options: { lime: { ...config.explain.lime }, ig: { ...config.explain.ig } },
        sanityImages: Math.min(5, o.limit),
        extensions: config.images.extensions,
        maxPixels: config.images.maxPixels,
      },
      (p) => out.info(`xai-eval ${p.done}/${p.total} ${p.message ?? ''}`),
    );
    if (o.json) out.stdout(JSON.stringify(result));
    else for (const line of xaiTable(result)) out.stdout(line);
    return 0;
  });
}

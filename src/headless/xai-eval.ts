// `slidetriage xai-eval`: the explanation quality table.
import path from 'node:path';
import type { Config } from '../config.js';
import type { XaiEvalResult } from '../engine/explain/evaluate.js';
import type { Output } from './output.js';
import { withEngine } from './with-engine.js';

const f = (x: number | null, digits = 3) => (x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));

export function xaiTable(r: XaiEvalResult): string[] {
  return [
    `model ${r.model}; ${r.images} images from ${r.source}; masks used ${r.masks.used}, near-empty skipped ${r.masks.skippedNearlyEmpty}, missing ${r.masks.missing}`,
    '| method | deletion AUC ↓ | insertion AUC ↑ | pointing game ↑ | mass in cell ↑ | rank corr. after randomisation ↓ | mass in scale-mark corner (1.5% of area) | ms / explanation |',
    '|---|---|---|---|---|---|---|---|',
    ...r.rows.map(
      (x) =>
        `| ${x.method} | ${f(x.deletionAuc)} | ${f(x.insertionAuc)} | ${f(x.pointingGame)} | ${f(x.relevanceMass)} | ${f(x.randomisationSpearman)}${x.randomisationConstant ? ` (${x.randomisationConstant} constant map(s) left out)` : ''} | ${f(x.cornerMass)} | ${f(x.ms, 0)} |`,
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

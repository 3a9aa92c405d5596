// `npm run bench:engine`: forward time per image and GFLOP/s of EfficientNet on the active backend.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Output } from './output.js';
import { withEngine } from './with-engine.js';

export interface BenchCase {
  variant: string;
  size: number;
  batch: number;
  runs: number;
}

export const DEFAULT_CASES: BenchCase[] = [
  { variant: 'b0', size: 224, batch: 1, runs: 7 },
  { variant: 'b0', size: 224, batch: 8, runs: 5 },
  { variant: 'b7', size: 600, batch: 1, runs: 3 },
];

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function runBenchEngine(config: Config, cases: BenchCase[], outFile: string, out: Output): Promise<number> {
  return withEngine(config, out, 'bench', async (engine, backend) => {
    const rows = [];
    for (const c of cases) {
      out.info(`timing EfficientNet-${c.variant.toUpperCase()} @${c.size} px, batch ${c.batch}, ${c.runs} runs…`);
      const r = await engine.call('benchForward', c);
      const msRun = median(r.msPerRun);
      const msImage = msRun / c.batch;
      rows.push({
        model: `EfficientNet-${c.variant.toUpperCase()}`,
        size: c.size,
        batch: c.batch,
        runs: c.runs,
        msPerImage: Number(msImage.toFixed(1)),
        msPerBatchMedian: Number(msRun.toFixed(1)),
        gflopsPerImage: Number((r.flops / 1e9).toFixed(3)),
        gflopPerSecond: Number(((r.flops * c.batch) / (msRun / 1000) / 1e9).toFixed(2)),
        parameters: r.parameters,
        runsMs: r.msPerRun.map((x) => Number(x.toFixed(1))),
      });
    }
    const header = '| model | input | batch | ms / image (median) | GFLOP / image | GFLOP/s | runs |';
    const table = [header, '|---|---|---|---|---|---|---|', ...rows.map((r) => `| ${r.model} | ${r.size} | ${r.batch} | ${r.msPerImage} | ${r.gflopsPerImage} | ${r.gflopPerSecond} | ${r.runs} |`)];
    out.stdout(`runtime tfjs-${backend.backend}, ${process.platform}/${process.arch}, node ${process.version}`);
    for (const line of table) out.stdout(line);
    await fs.mkdir(path.dirname(outFile), { recursive: true });
    await fs.writeFile(outFile, JSON.stringify({ date: new Date().toISOString(), runtime: `tfjs-${backend.backend}`, node: process.version, rows }, null, 2) + '\n');
    out.info(`written ${outFile}`);
    return 0;
  });
}

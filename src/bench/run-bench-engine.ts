// `npm run bench:engine`: forward time per image and GFLOP/s of EfficientNet on the active backend.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Output } from '../headless/output.js';
import { withEngine } from '../headless/with-engine.js';

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

export const RUNTIMES = ['tfjs', 'onnx', 'onnx-bare'] as const;
type BenchRuntime = (typeof RUNTIMES)[number];

export async function runBenchEngine(config: Config, cases: BenchCase[], outFile: string, out: Output, runtimes: readonly BenchRuntime[] = RUNTIMES, withIg = true): Promise<number> {
  return withEngine(config, out, 'bench', async (engine, backend) => {
    const rows = [];
    for (const c of cases) {
      const row: Record<string, unknown> & { ms: Partial<Record<BenchRuntime, number>> } = {
        model: `EfficientNet-${c.variant.toUpperCase()}`,
        size: c.size,
        batch: c.batch,
        runs: c.runs,
        ms: {},
      };
      for (const runtime of runtimes) {
        out.info(`timing EfficientNet-${c.variant.toUpperCase()} @${c.size} px, batch ${c.batch}, ${c.runs} runs on ${runtime}…`);
        const r = await engine.call('benchForward', { ...c, runtime });
        const msRun = median(r.msPerRun);
        row.ms[runtime] = Number((msRun / c.batch).toFixed(1));
        row.gflopsPerImage = Number((r.flops / 1e9).toFixed(3));
        row.parameters = r.parameters;
        row[`${runtime}RunsMs`] = r.msPerRun.map((x) => Number(x.toFixed(1)));
        if (r.exportMs !== undefined) row.exportMs = Number(r.exportMs.toFixed(0));
      }
      rows.push(row);
    }
    const cell = (v: number | undefined) => (v === undefined ? '–' : String(v));
    const ratio = (a: number | undefined, b: number | undefined, digits = 1) => (a && b ? (a / b).toFixed(digits) : '–');
    const table = [
      '| model | input | batch | tfjs ms / image | ONNX Runtime ms / image | ORT bare ms / image | ORT vs tfjs | ours vs bare | GFLOP / image |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.model} | ${r.size} | ${r.batch} | ${cell(r.ms.tfjs)} | ${cell(r.ms.onnx)} | ${cell(r.ms['onnx-bare'])} | ${ratio(r.ms.tfjs, r.ms.onnx)}× | ${ratio(r.ms.onnx, r.ms['onnx-bare'], 2)} | ${r.gflopsPerImage} |`,
      ),
    ];
    const ig: Array<Record<string, unknown>> = [];
    if (withIg) {
      for (const runtime of ['onnx', 'tfjs'] as const) {
        out.info(`timing Integrated Gradients (32 steps) on EfficientNet-B0 @224 px on ${runtime}…`);
        const r = await engine.call('benchIg', { variant: 'b0', size: 224, steps: 32, runtime });
        ig.push({ runtime, firstMs: Math.round(r.firstMs), nextMs: Math.round(r.nextMs), completenessGap: Number(r.completenessGap.toFixed(4)) });
      }
    }
    out.stdout(`tfjs-${backend.backend} (one thread) against onnxruntime-node (${config.threads || 'all'} threads), ${process.platform}/${process.arch}, node ${process.version}`);
    for (const line of table) out.stdout(line);
    if (ig.length) {
      out.stdout('');
      out.stdout('| Integrated Gradients, 32 steps, EfficientNet-B0 @224 | first call ms (export, session, warm-up) | next call ms | completeness gap |');
      out.stdout('|---|---|---|---|');
      for (const r of ig) out.stdout(`| ${r.runtime === 'onnx' ? 'ONNX Runtime (gradient graph)' : 'TensorFlow.js'} | ${r.firstMs} | ${r.nextMs} | ${r.completenessGap} |`);
    }
    await fs.mkdir(path.dirname(outFile), { recursive: true });
    await fs.writeFile(
      outFile,
      JSON.stringify({ date: new Date().toISOString(), backend: `tfjs-${backend.backend}`, threads: config.threads, node: process.version, rows, integratedGradients: ig }, null, 2) + '\n',
    );
    out.info(`written ${outFile}`);
    return 0;
  });
}

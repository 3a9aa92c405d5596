// The latest `slidetriage bench` results for the Benchmarks screen, read again each time it is opened:
// the lab's own run where there is one, else the comparison shipped in the package (docs/benchmarks).
import { useEffect, useState } from 'react';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_ROOT } from '../config.js';
import type { BenchRow } from './table.js';

/** The comparison run for the README (`docs/benchmarks.md`), shown until the lab runs its own. */
export const SHIPPED_BENCH_RESULTS = path.join(PACKAGE_ROOT, 'docs', 'benchmarks', 'paper', 'results.json');

/** null while reading; 'none' when neither file can be read. `shipped`: read from the package's own run. */
export type BenchResults = { header: string; rows: BenchRow[]; shipped?: boolean } | null | 'none';

export function benchResultsFile(resultsDir: string): string {
  return path.join(resultsDir, 'results.json');
}

async function readResults(file: string): Promise<{ header: string; rows: BenchRow[] } | null> {
  try {
    const r = JSON.parse(await fs.readFile(file, 'utf8')) as { header?: unknown; rows?: unknown };
    return typeof r.header === 'string' && Array.isArray(r.rows) ? { header: r.header, rows: r.rows as BenchRow[] } : null;
  } catch {
    return null;
  }
}

/** The lab's results, else the shipped ones (marked), else 'none'. */
export async function loadBenchResults(file: string, shippedFile: string | null = SHIPPED_BENCH_RESULTS): Promise<Exclude<BenchResults, null>> {
  const own = await readResults(file);
  if (own) return own;
  const shipped = shippedFile ? await readResults(shippedFile) : null;
  return shipped ? { ...shipped, shipped: true } : 'none';
}

export function useBenchResults(resultsDir: string, open: boolean, shippedFile: string | null = SHIPPED_BENCH_RESULTS): BenchResults {
  const [results, setResults] = useState<BenchResults>(null);
  const file = benchResultsFile(resultsDir);
  useEffect(() => {
    if (!open) return;
    let live = true;
    void loadBenchResults(file, shippedFile).then((r) => live && setResults(r));
    return () => {
      live = false;
    };
  }, [file, open, shippedFile]);
  return results;
}

// The latest `slidetriage bench` results for the Benchmarks screen, read again each time it is opened.
import { useEffect, useState } from 'react';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BenchRow } from './table.js';

/** null while reading; 'none' when no run wrote the file (or it cannot be read). */
export type BenchResults = { header: string; rows: BenchRow[] } | null | 'none';

export function benchResultsFile(resultsDir: string): string {
  return path.join(resultsDir, 'results.json');
}

export function useBenchResults(resultsDir: string, open: boolean): BenchResults {
  const [results, setResults] = useState<BenchResults>(null);
  const file = benchResultsFile(resultsDir);
  useEffect(() => {
    if (!open) return;
    let live = true;
    fs.readFile(file, 'utf8')
      .then((t) => live && setResults(JSON.parse(t)))
      .catch(() => live && setResults('none'));
    return () => {
      live = false;
    };
  }, [file, open]);
  return results;
}

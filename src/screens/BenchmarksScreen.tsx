// The latest benchmark tables (`slidetriage bench`), their ROC curves drawn in the terminal and the
// confusion matrix of one model; without a benchmark run, the model's own held-out figures.
import React, { useEffect, useState } from 'react';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Box, Text } from 'ink';
import { useEngine } from '../contexts/EngineContext.js';
import { AsciiRoc } from '../components/AsciiRoc.js';
import { benchTable, type BenchRow } from '../services/bench-table.js';
import { KeyHints } from '../components/KeyHints.js';
import type { VersionTable } from '../app/version-evaluation.js';

export function BenchmarksScreen({ resultsDir, selected = 0, versions }: { resultsDir: string; selected?: number; versions?: VersionTable }) {
  const file = path.join(resultsDir, 'results.json');
  const { model } = useEngine();
  const [results, setResults] = useState<{ header: string; rows: BenchRow[] } | null | 'none'>(null);
  useEffect(() => {
    let live = true;
    fs.readFile(file, 'utf8')
      .then((t) => live && setResults(JSON.parse(t)))
      .catch(() => live && setResults('none'));
    return () => {
      live = false;
    };
  }, [file]);
  const headline = (model?.metrics as { headline?: string; test?: { metrics?: { accuracy?: number } }; val?: { metrics?: { accuracy?: number } } } | null) ?? null;
  const part = headline?.headline === 'test' ? headline.test : headline?.val;
  const marks = 'ABCDEFGH';
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold>Benchmarks</Text>
      {model ? (
        <Text>
          Current model {model.id}: {part?.metrics?.accuracy !== undefined ? `held-out accuracy ${(part.metrics.accuracy * 100).toFixed(2)}% (${headline?.headline} part)` : 'no held-out figures in its manifest'}
        </Text>
      ) : (
        <Text>No model loaded.</Text>
      )}
      {results === null && <Text>reading {file}…</Text>}
      {results === 'none' && <Text color="yellow">No benchmark run yet: `slidetriage bench --data DIR` writes {file}.</Text>}
      {results && results !== 'none' && (
        <>
          <Text dimColor wrap="truncate-end">
            {results.header}
          </Text>
          {benchTable(results.rows).map((l, i) => (
            <Text key={i} wrap="truncate-end">
              {l}
            </Text>
          ))}
          <Box marginTop={1}>
            <AsciiRoc curves={results.rows.map((r, i) => ({ mark: marks[i % marks.length], label: `${r.name} AUC ${(r.auc * 100).toFixed(1)}%`, points: r.roc }))} />
            {results.rows[selected] && (
              <Box flexDirection="column" marginLeft={2}>
                <Text underline>{results.rows[selected].name}: confusion (rows true, columns predicted)</Text>
                <Text>{'        ' + results.rows[selected].classes.map((c) => c.slice(0, 7).padStart(8)).join('')}</Text>
                {results.rows[selected].confusion.map((row, r) => (
                  <Text key={r}>
                    {results.rows[selected].classes[r].slice(0, 7).padEnd(8)}
                    {row.map((v) => String(v).padStart(8)).join('')}
                  </Text>
                ))}
              </Box>
            )}
          </Box>
        </>
      )}
      <Box flexDirection="column" marginTop={1}>
        <Text bold>Model versions on the confirmed labels</Text>
        {versions?.message ? <Text color={versions.running ? 'cyan' : 'green'}>{versions.message}</Text> : <Text dimColor>press e to score every saved version on the labels in the store</Text>}
        {versions?.lines.map((l, i) => (
          <Text key={i} wrap="truncate-end">
            {l}
          </Text>
        ))}
      </Box>
      <KeyHints context="benchmarks" />
    </Box>
  );
}

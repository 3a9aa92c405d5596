// The latest benchmark tables (`slidetriage bench`), their ROC curves drawn in the terminal and the
// confusion matrix of one model; without a benchmark run, the model's own held-out figures. Built as
// lines that scroll, fitted to the terminal's width: the chart beside the matrix where both fit, else
// under it, and the table's main columns only where the whole table does not fit.
import React from 'react';
import { Box, Text } from 'ink';
import wrapAnsi from 'wrap-ansi';
import type { ModelInfo } from '../engine/protocol.js';
import { rocLines } from '../bench/ascii-roc.js';
import { benchTable, type BenchRow } from '../bench/table.js';
import { KeyHints } from '../components/KeyHints.js';
import { line, ScrollLines, type Line } from '../components/ScrollLines.js';
import type { VersionTable } from '../app/version-evaluation.js';
import type { BenchResults } from '../bench/results.js';

const MARKS = 'ABCDEFGH';
const CHART_MAX_WIDTH = 40;
const CHART_MAX_HEIGHT = 14;

export interface BenchmarksView {
  results: BenchResults;
  file: string;
  model: ModelInfo | null;
  versions?: VersionTable;
  /** The model whose confusion matrix is shown. */
  selected?: number;
  width: number;
  /** Rows for the scrolling part: the chart is kept short enough to be seen whole. */
  rows: number;
}

function modelLine(model: ModelInfo | null): string {
  if (!model) return 'No model loaded.';
  const m = model.metrics as { headline?: string; test?: { metrics?: { accuracy?: number } }; val?: { metrics?: { accuracy?: number } } } | null;
  const part = m?.headline === 'test' ? m.test : m?.val;
  const acc = part?.metrics?.accuracy;
  return `Current model ${model.id}: ${acc !== undefined ? `held-out accuracy ${(acc * 100).toFixed(2)}% (${m?.headline} part)` : 'no held-out figures in its manifest'}`;
}

function confusionLines(row: BenchRow): string[] {
  return [
    `${row.name}: confusion (rows true, columns predicted)`,
    '        ' + row.classes.map((c) => c.slice(0, 7).padStart(8)).join(''),
    ...row.confusion.map((r, i) => row.classes[i].slice(0, 7).padEnd(8) + r.map((v) => String(v).padStart(8)).join('')),
  ];
}

/** Two blocks of lines side by side, the left one padded to its widest line. */
function besideLines(left: string[], right: string[], gap = 2): string[] {
  const w = Math.max(...left.map((l) => l.length));
  return Array.from({ length: Math.max(left.length, right.length) }, (_, i) => `${(left[i] ?? '').padEnd(w + gap)}${right[i] ?? ''}`.trimEnd());
}

export function benchmarkLines({ results, file, model, versions, selected = 0, width, rows }: BenchmarksView): Line[] {
  const inner = Math.max(20, width - 2);
  const wrapped = (text: string, style: Parameters<typeof line>[1] = {}) =>
    wrapAnsi(text, inner, { hard: true })
      .split('\n')
      .map((t) => line(t, style));
  const out: Line[] = [...wrapped(modelLine(model))];
  if (results === null) out.push(line(`reading ${file}…`));
  if (results === 'none') out.push(...wrapped(`No benchmark run yet: \`slidetriage bench --data DIR\` writes ${file}.`, { color: 'yellow' }));
  if (results && results !== 'none') {
    if (results.shipped) out.push(...wrapped(`The comparison shipped with slidetriage (docs/benchmarks.md); \`slidetriage bench --data DIR\` writes your own to ${file}.`, { color: 'cyan' }));
    out.push(...wrapped(results.header, { dim: true }));
    const full = benchTable(results.rows);
    const table = Math.max(...full.map((l) => l.length)) <= inner ? full : benchTable(results.rows, 'main');
    out.push(...table.map((t) => line(t)));
    out.push([]);
    const legendRows = results.rows.length;
    const chartHeight = Math.max(4, Math.min(CHART_MAX_HEIGHT, rows - 3 - legendRows));
    const curves = results.rows.map((r, i) => ({ mark: MARKS[i % MARKS.length], label: `${r.name} AUC ${(r.auc * 100).toFixed(1)}%`, points: r.roc }));
    const confusion = results.rows[selected] ? confusionLines(results.rows[selected]) : [];
    const confusionWidth = Math.max(0, ...confusion.map((l) => l.length));
    // Frame and axis labels take 10 columns around the chart's cells.
    const besideWidth = Math.min(CHART_MAX_WIDTH, inner - 10 - 2 - confusionWidth);
    if (besideWidth >= 24) {
      out.push(...besideLines(rocLines(curves, besideWidth, chartHeight), confusion).map((t) => line(t)));
    } else {
      out.push(...rocLines(curves, Math.max(10, Math.min(CHART_MAX_WIDTH, inner - 10)), chartHeight).map((t) => line(t)));
      if (confusion.length) out.push([], line(confusion[0], { underline: true }), ...confusion.slice(1).map((t) => line(t)));
    }
  }
  out.push([], line('Model versions on the confirmed labels', { bold: true }));
  if (versions?.message) out.push(...wrapped(versions.message, { color: versions.running ? 'cyan' : 'green' }));
  else out.push(line('press e to score every saved version on the labels in the store', { dim: true }));
  out.push(...(versions?.lines ?? []).map((t) => line(t)));
  return out;
}

/** Rows the scrolling part gets out of the screen's `height`: the title and the key hints take one each. */
export const benchmarkRows = (height: number) => height - 2;

export function BenchmarksScreen(props: Omit<BenchmarksView, 'rows'> & { height: number; offset: number }) {
  const rows = benchmarkRows(props.height);
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold>Benchmarks</Text>
      <ScrollLines lines={benchmarkLines({ ...props, rows })} height={rows} offset={props.offset} />
      <KeyHints context="benchmarks" />
    </Box>
  );
}

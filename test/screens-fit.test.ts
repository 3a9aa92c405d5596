import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBenchResults } from '../src/bench/results.js';
import { benchmarkLines } from '../src/screens/BenchmarksScreen.js';
import { versionWindow } from '../src/screens/RetrainScreen.js';
import type { BenchRow } from '../src/bench/table.js';

const row = (name: string, auc: number): BenchRow => ({
  model: name.toLowerCase(),
  name,
  parameters: 4_000_000,
  trainSeconds: 120,
  epochs: 3,
  n: 32,
  accuracy: 0.9,
  precision: 0.91,
  recall: 0.9,
  f1: 0.9,
  auc,
  mAP: 0.95,
  msPerImage: 7.5,
  msTestPart: 240,
  classes: ['Benign', 'Early', 'Pre', 'Pro'],
  confusion: [
    [8, 0, 0, 0],
    [1, 7, 0, 0],
    [0, 0, 8, 0],
    [0, 0, 0, 8],
  ],
  roc: [
    [0, 0],
    [0.1, 0.8],
    [1, 1],
  ],
});
const results = { header: 'Held-out test part', rows: ['EfficientNet-B0', 'VGG-19', 'ResNet50', 'InceptionResNetV2', 'DenseNet-121', 'AlexNet'].map((n, i) => row(n, 0.9 + i / 100)) };
const text = (width: number, rows = 21) => benchmarkLines({ results, file: 'bench-results/models/results.json', model: null, width, rows }).map((l) => l.map((s) => s.text).join(''));

describe('the Benchmarks screen fitted to the terminal', () => {
  it('on 80 columns: every line fits, the table keeps its main columns, the matrix sits under the chart', () => {
    const lines = text(80);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(78);
    expect(lines).toContain('| model | accuracy % | F1 % | ROC AUC % | mAP % | ms / image |');
    expect(lines).toContain('| InceptionResNetV2 | 90.00 | 90.00 | 93.00 | 95.00 | 7.5 |');
    const chartEnd = lines.findIndex((l) => l.includes('┘ FPR'));
    const matrix = lines.findIndex((l) => l.startsWith('EfficientNet-B0: confusion'));
    expect(chartEnd).toBeGreaterThan(0);
    expect(matrix).toBeGreaterThan(chartEnd);
    expect(lines).toContain('Early          1       7       0       0');
  });

  it('on 160 columns: the whole table, and the matrix beside the chart', () => {
    const lines = text(160);
    expect(lines.some((l) => l.startsWith('| model | accuracy % | precision % | recall % |'))).toBe(true);
    expect(lines.some((l) => /^TPR ┌─+┐ +EfficientNet-B0: confusion/.test(l))).toBe(true);
  });

  it('keeps the chart short enough to be seen whole on a short terminal', () => {
    const frame = (rows: number) => text(160, rows).filter((l) => /│.*│/.test(l)).length;
    expect(frame(40)).toBe(14);
    expect(frame(21)).toBe(12);
    expect(frame(8)).toBe(4);
  });

  it('says how to make a run when none exists', () => {
    const lines = benchmarkLines({ results: 'none', file: 'r/results.json', model: null, width: 80, rows: 21 }).map((l) => l.map((s) => s.text).join(''));
    expect(lines.join('\n')).toMatch(/No benchmark run yet: `slidetriage bench --data DIR` writes r\/results\.json/);
  });
});

describe('the results the Benchmarks screen reads', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-results-'));
  const own = path.join(dir, 'own.json');
  const shipped = path.join(dir, 'shipped.json');
  fs.writeFileSync(shipped, JSON.stringify({ header: 'shipped run', rows: [row('AlexNet', 0.8)] }));

  it('shows the shipped comparison, marked, until the lab has its own run; then its own', async () => {
    const fallback = await loadBenchResults(own, shipped);
    expect(fallback).toMatchObject({ header: 'shipped run', shipped: true });
    const lines = benchmarkLines({ results: fallback, file: 'r/results.json', model: null, width: 80, rows: 21 }).map((l) => l.map((s) => s.text).join(''));
    expect(lines.join('\n')).toMatch(/comparison shipped with slidetriage[\s\S]*writes your own to r\/results\.json/);
    fs.writeFileSync(own, JSON.stringify({ header: 'own run', rows: [] }));
    expect(await loadBenchResults(own, shipped)).toEqual({ header: 'own run', rows: [] });
  });

  it('passes over a damaged file, and says none when nothing can be read', async () => {
    fs.writeFileSync(own, '{"header": 3');
    expect(await loadBenchResults(own, shipped)).toMatchObject({ shipped: true });
    expect(await loadBenchResults(own, path.join(dir, 'absent.json'))).toBe('none');
    expect(await loadBenchResults(own, null)).toBe('none');
  });

  it('finds the comparison committed with the package', async () => {
    const r = await loadBenchResults(path.join(dir, 'absent.json'));
    expect(r).toMatchObject({ shipped: true });
    if (r === 'none') return;
    expect(r.rows.map((x) => x.name)).toEqual(expect.arrayContaining(['EfficientNet-B0', 'VGG-19', 'ResNet50', 'InceptionResNetV2', 'DenseNet-121', 'AlexNet']));
  });
});

describe('the Retrain screen on a short terminal', () => {
  it('shows every version where they fit, else a window that keeps the selected one in view', () => {
    expect(versionWindow(5, 0, 40)).toEqual({ start: 0, end: 5 });
    // A height of 24 rows leaves 10 for the list (3 at the least).
    expect(versionWindow(30, 0, 24)).toEqual({ start: 0, end: 10 });
    expect(versionWindow(30, 17, 24)).toEqual({ start: 12, end: 22 });
    expect(versionWindow(30, 29, 24)).toEqual({ start: 20, end: 30 });
    expect(versionWindow(30, 5, 10)).toEqual({ start: 4, end: 7 });
  });
});

describe('captions under the maps', () => {
  it('says which layer each map reads even where a dozen columns are all there is', async () => {
    const { mapCaption, mapShortCaption } = await import('../src/screens/maps.js');
    const short = ['layercam14', 'layercam28', 'layercam', 'gradcam', 'ig', 'image'].map((m) => mapShortCaption(m, 224));
    expect(short).toEqual(['LayerCAM 14²', 'LayerCAM 28²', 'LayerCAM 7²–28²', 'Grad-CAM 7²', 'Integrated Gradients', 'image']);
    // The ones the app shows by default fit the 12 columns a map gets side by side at 100 columns.
    for (const c of short.slice(0, 2).concat(short[3])) expect(c.length).toBeLessThanOrEqual(12);
    expect(mapCaption('layercam14', 224)).toBe('LayerCAM · stage before the last, 14 × 14');
    expect(mapShortCaption('layercam14', null)).toBe('LayerCAM');
  });
});

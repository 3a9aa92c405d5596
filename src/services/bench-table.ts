// One row per benchmarked model and its Markdown table: written by `slidetriage bench`, read by the Benchmarks screen.

export interface BenchRow {
  model: string;
  name: string;
  parameters: number;
  trainSeconds: number;
  epochs: number;
  n: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Binary malignant-vs-negative AUC when a negative class is given, else the macro one-vs-rest AUC. */
  auc: number;
  mAP: number;
  msPerImage: number;
  msTestPart: number;
  classes: string[];
  confusion: number[][];
  roc: Array<[number, number]>;
}

export const pct = (x: number) => (Number.isFinite(x) ? (x * 100).toFixed(2) : 'n/a');

/** The table in Markdown; `main` keeps the columns that fit an 80-column terminal. */
export function benchTable(rows: BenchRow[], columns: 'all' | 'main' = 'all'): string[] {
  if (columns === 'main')
    return ['| model | accuracy % | F1 % | ROC AUC % | mAP % | ms / image |', '|---|---|---|---|---|---|', ...rows.map((r) => `| ${r.name} | ${pct(r.accuracy)} | ${pct(r.f1)} | ${pct(r.auc)} | ${pct(r.mAP)} | ${r.msPerImage.toFixed(1)} |`)];
  return [
    '| model | accuracy % | precision % | recall % | F1 % | ROC AUC % | mAP % | parameters | training s | ms / image | ms test part |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${pct(r.accuracy)} | ${pct(r.precision)} | ${pct(r.recall)} | ${pct(r.f1)} | ${pct(r.auc)} | ${pct(r.mAP)} | ${r.parameters.toLocaleString('en')} | ${Math.round(r.trainSeconds)} | ${r.msPerImage.toFixed(1)} | ${Math.round(r.msTestPart)} |`),
  ];
}

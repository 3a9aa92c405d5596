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
  /** Where the test part's forward passes ran (absent in results written before it was recorded). */
  runtime?: string;
  /** The bundle the model started from (ImageNet weights), or null: from scratch. */
  init?: string | null;
  classes: string[];
  confusion: number[][];
  roc: Array<[number, number]>;
}

export const pct = (x: number) => (Number.isFinite(x) ? (x * 100).toFixed(2) : 'n/a');

/** The table's columns; `main` marks those that fit an 80-column terminal. */
const COLUMNS: Array<{ header: string; main: boolean; cell(r: BenchRow): string }> = [
  { header: 'model', main: true, cell: (r) => r.name },
  { header: 'accuracy %', main: true, cell: (r) => pct(r.accuracy) },
  { header: 'precision %', main: false, cell: (r) => pct(r.precision) },
  { header: 'recall %', main: false, cell: (r) => pct(r.recall) },
  { header: 'F1 %', main: true, cell: (r) => pct(r.f1) },
  { header: 'ROC AUC %', main: true, cell: (r) => pct(r.auc) },
  { header: 'mAP %', main: true, cell: (r) => pct(r.mAP) },
  { header: 'parameters', main: false, cell: (r) => r.parameters.toLocaleString('en') },
  { header: 'training s', main: false, cell: (r) => String(Math.round(r.trainSeconds)) },
  { header: 'ms / image', main: true, cell: (r) => r.msPerImage.toFixed(1) },
  { header: 'ms test part', main: false, cell: (r) => String(Math.round(r.msTestPart)) },
];

/** The table in Markdown; `main` keeps the columns that fit an 80-column terminal. */
export function benchTable(rows: BenchRow[], columns: 'all' | 'main' = 'all'): string[] {
  const cols = COLUMNS.filter((c) => columns === 'all' || c.main);
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [row(cols.map((c) => c.header)), `|${cols.map(() => '---').join('|')}|`, ...rows.map((r) => row(cols.map((c) => c.cell(r))))];
}

/** A Markdown table: the header, its rule, and one line per row (cells as given). */
export function markdownTable(head: string[], rows: string[][]): string {
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

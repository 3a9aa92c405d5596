// The out-of-distribution index taught a lab: its slides join the bank of known images (knn.ts), searched
// with their own k (LAB_K), and the threshold stays the model's own, set on its validation images. A slide
// of the lab then has neighbours in the bank; a picture that is not blood is as far from every row as it
// was, and stays flagged. Adapting an adapted model replaces the lab's rows: one lab at a time.
import { checkOod, unitRows, type OodIndex } from '../ood/knn.js';

function concat(rows: Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(r, i * dim));
  return out;
}

/** The lab's slides' own k: a few neighbours among them, not one near-twin alone. */
export const LAB_K = 5;

/** The parent's index with the lab's slides (`fitted`) in its bank; `checked` are scored against it. A lab adapted to before is replaced. */
export function withLabInBank(parent: OodIndex, fitted: Float32Array[], checked: Float32Array[]): OodIndex {
  const { dim } = parent.meta;
  const home = parent.bank.subarray(0, parent.bank.length - (parent.meta.lab?.n ?? 0) * dim);
  const lab = unitRows(concat(fitted, dim), dim);
  const bank = new Float32Array(home.length + lab.length);
  bank.set(home, 0);
  bank.set(lab, home.length);
  const meta = { ...parent.meta, n: bank.length / dim, flagged: { ...parent.meta.flagged }, lab: { n: fitted.length, k: Math.min(LAB_K, fitted.length) } };
  const index: OodIndex = { meta, bank };
  index.meta.flagged.lab = { n: checked.length, unusual: checked.filter((f) => checkOod(index, f).unusual).length };
  return index;
}

// The out-of-distribution index taught a lab: its slides join the bank of known images (knn.ts), and the
// threshold stays the model's own, set on its validation images. A slide of the lab then has neighbours
// in the bank; a picture that is not blood is as far from every row as it was, and stays flagged.
import { checkOod, unitRows, type OodIndex } from '../ood/knn.js';

function concat(rows: Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(r, i * dim));
  return out;
}

export function withLabInBank(parent: OodIndex, fitted: Float32Array[], checked: Float32Array[]): OodIndex {
  const { dim } = parent.meta;
  const lab = unitRows(concat(fitted, dim), dim);
  const bank = new Float32Array(parent.bank.length + lab.length);
  bank.set(parent.bank, 0);
  bank.set(lab, parent.bank.length);
  const index: OodIndex = { meta: { ...parent.meta, n: bank.length / dim, flagged: { ...parent.meta.flagged } }, bank };
  index.meta.flagged.lab = { n: checked.length, unusual: checked.filter((f) => checkOod(index, f).unusual).length };
  return index;
}

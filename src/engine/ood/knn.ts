// Is a slide like the images the model was trained on? Deep nearest neighbours (Sun et al., ICML 2022):
// the pooled last feature map of each training image, scaled to unit length, is kept with the bundle;
// a slide's score is the cosine distance from its feature to the k-th nearest of them. The threshold is
// a high quantile of the scores of the validation images (like the training set, never in the bank), so
// about 1 − quantile of the slides like the validation part are flagged, and a slide far from every
// training image (another stain, another scanner, not a smear) is. A softmax stays confident there —
// the default model calls C-NMC's single cells on black Pre-B at 100% — this does not.
import { z } from 'zod';

export const OOD_FILE = 'ood.bin';

export const oodSchema = z
  .object({
    method: z.literal('knn-cosine'),
    /** Which neighbour's distance is the score (1 = nearest). */
    k: z.number().int().min(1),
    /** The threshold is this quantile of the validation images' scores. */
    quantile: z.number().gt(0).lt(1),
    threshold: z.number(),
    /** Training images in the bank, features per image. */
    n: z.number().int().min(1),
    dim: z.number().int().min(1),
    file: z.literal(OOD_FILE),
    /** Share of each held-out part above the threshold, when it was measured. */
    flagged: z.record(z.string(), z.object({ n: z.number().int(), unusual: z.number().int() })),
    /**
     * The last `n` rows of the bank are a lab's own slides (adapt/lab-ood.ts), searched apart with their
     * own k: a lab's few hundred slides cannot offer the 30 neighbours the training images do.
     */
    lab: z
      .object({ n: z.number().int().min(1), k: z.number().int().min(1) })
      .strict()
      .optional(),
  })
  .strict();
export type OodMeta = z.infer<typeof oodSchema>;

export interface OodIndex {
  meta: OodMeta;
  /** n × dim unit rows. */
  bank: Float32Array;
}

export interface OodCheck {
  /** Cosine distance to the k-th nearest training image. */
  distance: number;
  threshold: number;
  unusual: boolean;
}

/** Rows scaled to unit length (an all-zero row stays zero). */
export function unitRows(features: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(features.length);
  for (let r = 0; r < features.length / dim; r++) {
    let norm = 0;
    for (let c = 0; c < dim; c++) norm += features[r * dim + c] ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let c = 0; c < dim; c++) out[r * dim + c] = features[r * dim + c] * scale;
  }
  return out;
}

/** Cosine distance from a unit query to the k-th nearest of the bank's unit rows. */
export function knnDistance(bank: Float32Array, dim: number, query: Float32Array, k: number): number {
  const n = bank.length / dim;
  const sims = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let dot = 0;
    for (let c = 0; c < dim; c++) dot += bank[r * dim + c] * query[c];
    sims[r] = dot;
  }
  sims.sort(); // ascending: the k-th most similar is k from the end
  return 1 - sims[Math.max(0, n - Math.min(k, n))];
}

/** The q-quantile of values by linear interpolation between order statistics (numpy's default). */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Builds the index from training features and sets the threshold on validation features (rows of dim). */
export function fitOod(train: Float32Array, val: Float32Array, dim: number, k: number, q: number): OodIndex {
  const bank = unitRows(train, dim);
  const n = bank.length / dim;
  if (n < k) throw new Error(`${n} training images are too few for the ${k}-th nearest neighbour`);
  const valRows = unitRows(val, dim);
  const scores = Array.from({ length: valRows.length / dim }, (_, r) => knnDistance(bank, dim, valRows.subarray(r * dim, (r + 1) * dim), k));
  const threshold = quantile(scores, q);
  const meta: OodMeta = { method: 'knn-cosine', k, quantile: q, threshold, n, dim, file: OOD_FILE, flagged: { val: { n: scores.length, unusual: scores.filter((s) => s > threshold).length } } };
  return { meta, bank };
}

/** Scores one image's pooled feature against the index: the nearer of the training images and the lab's slides. */
export function checkOod(index: OodIndex, feature: Float32Array): OodCheck {
  const { dim, k, threshold, lab } = index.meta;
  if (feature.length !== dim) throw new Error(`the model gives ${feature.length} features but its out-of-distribution index has ${dim}`);
  const query = unitRows(feature, dim);
  const split = index.bank.length - (lab ? lab.n * dim : 0);
  let distance = knnDistance(index.bank.subarray(0, split), dim, query, k);
  if (lab) distance = Math.min(distance, knnDistance(index.bank.subarray(split), dim, query, lab.k));
  return { distance, threshold, unusual: distance > threshold };
}

// The out-of-distribution index of a training run: the bank from the training part, the threshold from
// the validation part, and the share of the test part it flags (in the manifest, beside the metrics).
import { checkOod, fitOod, type OodIndex } from './knn.js';

/** Fewer validation images than this set no threshold worth having (the quantile would be the maximum of a handful). */
export const OOD_MIN_VAL = 10;
/** 10-th nearest: near-duplicates sit in blocks of neighbouring file numbers, so the nearest one says little. */
export const OOD_K = 10;
/** About 1 in 100 slides like the validation part is flagged. */
export const OOD_QUANTILE = 0.99;

type FeaturesOf = (idx: number[]) => Promise<{ features: Float32Array; dim: number }>;

export async function fitOodIndex(featuresOf: FeaturesOf, trainIdx: number[], valIdx: number[], testIdx: number[]): Promise<OodIndex> {
  const train = await featuresOf(trainIdx);
  const val = await featuresOf(valIdx);
  const index = fitOod(train.features, val.features, train.dim, Math.min(OOD_K, trainIdx.length), OOD_QUANTILE);
  if (testIdx.length) {
    const test = await featuresOf(testIdx);
    let unusual = 0;
    for (let r = 0; r < testIdx.length; r++) if (checkOod(index, test.features.subarray(r * test.dim, (r + 1) * test.dim)).unusual) unusual++;
    index.meta.flagged.test = { n: testIdx.length, unusual };
  }
  return index;
}

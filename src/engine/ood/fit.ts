// The out-of-distribution index of a training run: the bank from the training part, the threshold from
// the validation part, and the share of the test part it flags (in the manifest, beside the metrics).
import { checkOod, fitOod, type OodIndex } from './knn.js';

/** Fewer validation images than this set no threshold worth having (the quantile would be the maximum of a handful). */
export const OOD_MIN_VAL = 10;
/**
 * 30-th nearest: more than a block of near-duplicates (~20 neighbouring file numbers in the Taleqani
 * set), so that one odd block of training images cannot vouch for a slide on its own. Measured on the
 * default model (README): with k = 10 C-NMC cells sat just past the threshold and half the segmented
 * Taleqani images (cells on black) under it; with k = 30 every one of both was flagged, 1.4% of the test part.
 */
export const OOD_K = 30;
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

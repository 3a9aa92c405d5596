// Integrated Gradients' completeness check, said so that a technician can read it (no engine code here).
/** Below this score difference (in logits) the baseline scores like the image and a relative gap means nothing. */
export const BASELINE_TOO_CLOSE = 0.5;

/**
 * The completeness check in words: the absolute gap beside the relative one, and a warning when the
 * baseline scores like the image (a benign slide against a black baseline can differ by 0.01 logit, and
 * then a tiny absolute gap reads as "25960%"), with the blurred baseline offered instead.
 */
export function describeCompleteness(d: Record<string, number>, baseline: string): string {
  const delta = d.scoreDifference ?? NaN;
  const absolute = Math.abs((d.sumOfAttributions ?? NaN) - delta);
  const text = `completeness gap ${absolute.toFixed(3)} logit of F(x) − F(baseline) = ${delta.toFixed(3)}`;
  if (!(Math.abs(delta) >= BASELINE_TOO_CLOSE)) {
    return `${text}: the ${baseline} baseline scores like the image, so the map compares little${baseline === 'blur' ? '' : '; try explain.ig.baseline = "blur"'}`;
  }
  return `${text} (${((d.completenessGap ?? NaN) * 100).toFixed(1)}%)`;
}

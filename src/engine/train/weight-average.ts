// Stochastic weight averaging (Izmailov et al., 2018): the mean of the weights at the end of several
// epochs sits nearer the middle of a wide optimum than any one of them, and generalises better.

/** The mean of `count` earlier weight sets (`mean`) and `next`, as new arrays. */
export function runningMean(mean: Float32Array[] | null, next: Float32Array[], count: number): Float32Array[] {
  if (!mean || count === 0) return next.map((a) => a.slice());
  if (mean.length !== next.length) throw new Error(`weight average of ${mean.length} arrays cannot take ${next.length}`);
  return next.map((a, i) => {
    const m = mean[i];
    const out = new Float32Array(a.length);
    for (let k = 0; k < a.length; k++) out[k] = m[k] + (a[k] - m[k]) / (count + 1);
    return out;
  });
}

// Class probabilities as the UI, the store and the commands use them, without TensorFlow.js.

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Probabilities by class name, rounded to 6 decimals, as results and the store keep them. */
export function probabilityRecord(classes: string[], probabilities: ArrayLike<number>): Record<string, number> {
  return Object.fromEntries(classes.map((c, i) => [c, Number(probabilities[i].toFixed(6))]));
}

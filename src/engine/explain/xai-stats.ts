// The figures of xai-eval with their uncertainty, and each method held to its floor (issue #38): maps of
// regions (a CAM's feature map, LIME's superpixels) against the smooth random map, pixel-level maps (IG)
// against pixel noise. A method beats
// its floor when the 95% interval of its paired advantage over the floor (the same images) lies above zero on
// both deletion (lower is better) and insertion (higher is better).
import { isMethodName, METHOD_INFO } from '../../core/explanation-methods.js';
import { rng } from '../../core/random.js';

/** A mean with its 95% bootstrap interval over images. */
export interface Estimate {
  mean: number;
  low: number;
  high: number;
}

export interface FloorComparison {
  floor: 'random' | 'random-smooth';
  /** Per image, the floor's deletion AUC minus the method's: above 0 is better than the floor. */
  deletionMargin: Estimate;
  /** Per image, the method's insertion AUC minus the floor's. */
  insertionMargin: Estimate;
  beatsFloor: boolean;
}

const DRAWS = 2000;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The mean of xs and the 2.5th and 97.5th percentiles of the means of resamples (seeded); null when empty. */
export function bootstrap(xs: number[], seed: number): Estimate | null {
  if (!xs.length) return null;
  const r = rng(seed);
  const means = Array.from({ length: DRAWS }, () => mean(Array.from(xs, () => xs[Math.floor(r() * xs.length)])));
  means.sort((a, b) => a - b);
  return { mean: mean(xs), low: means[Math.floor(DRAWS * 0.025)], high: means[Math.ceil(DRAWS * 0.975) - 1] };
}

/** The floor a method is held to: pixel noise for per-pixel methods, else the smooth random map. */
export function floorOf(method: string): FloorComparison['floor'] | null {
  if (method.startsWith('random')) return null;
  return isMethodName(method) && METHOD_INFO[method].perPixel ? 'random' : 'random-smooth';
}

/** A method's paired advantage over its floor on the same images. */
export function compareWithFloor(method: { del: number[]; ins: number[] }, floor: { del: number[]; ins: number[] }, name: FloorComparison['floor'], seed: number): FloorComparison | null {
  const n = Math.min(method.del.length, floor.del.length);
  if (!n) return null;
  const deletionMargin = bootstrap(
    Array.from({ length: n }, (_, i) => floor.del[i] - method.del[i]),
    seed,
  )!;
  const insertionMargin = bootstrap(
    Array.from({ length: n }, (_, i) => method.ins[i] - floor.ins[i]),
    seed + 1,
  )!;
  return { floor: name, deletionMargin, insertionMargin, beatsFloor: deletionMargin.low > 0 && insertionMargin.low > 0 };
}

// Classification metrics, one module for training, benchmarks and retraining. Scores are per-class
// probabilities; labels are class indices.
import { argmax } from '../core/probabilities.js';

export interface PerClass {
  precision: number;
  recall: number;
  f1: number;
  support: number;
  /** One-vs-rest ROC AUC; NaN when the class has no positives or no negatives. */
  auc: number;
  /** Average precision (area under the step precision-recall curve, as scikit-learn computes it). */
  ap: number;
}

export interface Metrics {
  n: number;
  accuracy: number;
  classes: string[];
  perClass: Record<string, PerClass>;
  macro: { precision: number; recall: number; f1: number; auc: number };
  /** Mean of the per-class average precisions. */
  mAP: number;
  /** confusion[true][predicted] */
  confusion: number[][];
  /** Expected calibration error of the top-class probability, 15 equal-width bins. */
  ece: number;
  /** Binary positive-vs-rest AUC when a negative class is named (malignant vs benign). */
  binary?: { negative: string; auc: number; accuracy: number; sensitivity: number; specificity: number };
}

export function confusionMatrix(labels: number[], predicted: number[], k: number): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  labels.forEach((y, i) => m[y][predicted[i]]++);
  return m;
}

/**
 * ROC AUC by the rank statistic (Mann–Whitney U): ties in score count one half, exactly as the area
 * under the ROC curve drawn through tied points.
 */
export function rocAuc(scores: number[], positive: boolean[]): number {
  const order = scores.map((s, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (positive[order[t]]) {
        pos++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const neg = scores.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Counts (true positives, false positives) at each distinct score, highest first; tied scores are one threshold. */
function thresholdCounts(scores: number[], positive: boolean[]): Array<[number, number]> {
  const order = scores.map((s, i) => i).sort((a, b) => scores[b] - scores[a]);
  const counts: Array<[number, number]> = [];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    for (let t = i; t <= j; t++) {
      if (positive[order[t]]) tp++;
      else fp++;
    }
    counts.push([tp, fp]);
    i = j + 1;
  }
  return counts;
}

/** Points of the ROC curve (false-positive rate, true-positive rate), tied scores taken together. */
export function rocCurve(scores: number[], positive: boolean[]): Array<[number, number]> {
  const P = positive.filter(Boolean).length;
  const N = positive.length - P;
  return [[0, 0], ...thresholdCounts(scores, positive).map(([tp, fp]): [number, number] => [N ? fp / N : 0, P ? tp / P : 0])];
}

/**
 * Average precision: Σ (R_n − R_{n−1}) P_n over score thresholds, tied scores forming one threshold
 * (scikit-learn's average_precision_score). NaN without positives.
 */
export function averagePrecision(scores: number[], positive: boolean[]): number {
  const P = positive.filter(Boolean).length;
  if (P === 0) return NaN;
  let prevRecall = 0;
  let ap = 0;
  for (const [tp, fp] of thresholdCounts(scores, positive)) {
    const recall = tp / P;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}

export function expectedCalibrationError(probabilities: ArrayLike<number>[], labels: number[], bins = 15): number {
  const count = new Array<number>(bins).fill(0);
  const conf = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  probabilities.forEach((p, i) => {
    const k = argmax(p);
    const c = p[k];
    const b = Math.min(bins - 1, Math.floor(c * bins));
    count[b]++;
    conf[b] += c;
    if (k === labels[i]) correct[b]++;
  });
  const n = labels.length;
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]) ece += (count[b] / n) * Math.abs(correct[b] / count[b] - conf[b] / count[b]);
  return ece;
}

const safe = (num: number, den: number) => (den === 0 ? 0 : num / den);
const meanOf = (xs: number[]) => {
  const ok = xs.filter((x) => !Number.isNaN(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
};

export function computeMetrics(probabilities: ArrayLike<number>[], labels: number[], classes: string[], negativeClass?: string): Metrics {
  const k = classes.length;
  const predicted = probabilities.map(argmax);
  const confusion = confusionMatrix(labels, predicted, k);
  const perClass: Record<string, PerClass> = {};
  classes.forEach((name, c) => {
    const tp = confusion[c][c];
    const fp = confusion.reduce((s, row, r) => s + (r === c ? 0 : row[c]), 0);
    const fn = confusion[c].reduce((s, v, p) => s + (p === c ? 0 : v), 0);
    const precision = safe(tp, tp + fp);
    const recall = safe(tp, tp + fn);
    const scores = probabilities.map((p) => p[c]);
    const positive = labels.map((y) => y === c);
    perClass[name] = {
      precision,
      recall,
      f1: safe(2 * precision * recall, precision + recall),
      support: tp + fn,
      auc: rocAuc(scores, positive),
      ap: averagePrecision(scores, positive),
    };
  });
  const pcs = Object.values(perClass);
  const metrics: Metrics = {
    n: labels.length,
    accuracy: safe(predicted.filter((p, i) => p === labels[i]).length, labels.length),
    classes,
    perClass,
    macro: {
      precision: meanOf(pcs.map((p) => p.precision)),
      recall: meanOf(pcs.map((p) => p.recall)),
      f1: meanOf(pcs.map((p) => p.f1)),
      auc: meanOf(pcs.map((p) => p.auc)),
    },
    mAP: meanOf(pcs.map((p) => p.ap)),
    confusion,
    ece: expectedCalibrationError(probabilities, labels),
  };
  if (negativeClass !== undefined) {
    const neg = classes.indexOf(negativeClass);
    if (neg < 0) throw new Error(`negative class "${negativeClass}" is not one of ${classes.join(', ')}`);
    const score = probabilities.map((p) => 1 - p[neg]);
    const positive = labels.map((y) => y !== neg);
    const predPos = predicted.map((p) => p !== neg);
    const tp = predPos.filter((p, i) => p && positive[i]).length;
    const tn = predPos.filter((p, i) => !p && !positive[i]).length;
    const P = positive.filter(Boolean).length;
    metrics.binary = {
      negative: negativeClass,
      auc: rocAuc(score, positive),
      accuracy: safe(tp + tn, labels.length),
      sensitivity: safe(tp, P),
      specificity: safe(tn, labels.length - P),
    };
  }
  return metrics;
}

export interface Interval {
  /** The statistic on the images as they are. */
  estimate: number;
  low: number;
  high: number;
  /** Share of the draws whose statistic is above 0 (for a difference between two models). */
  aboveZero: number;
  draws: number;
}

/**
 * Percentile bootstrap over clusters: each draw takes as many clusters as there are, with replacement,
 * and all the images of each. Near-duplicates share a cluster (a block of file numbers), so the interval
 * is not narrowed by counting twins as independent evidence. `statistic` gets the drawn image indices.
 */
export function clusterBootstrap(groups: readonly string[], statistic: (idx: number[]) => number, opts: { draws?: number; level?: number; random: () => number }): Interval {
  const members = new Map<string, number[]>();
  groups.forEach((g, i) => (members.get(g) ?? members.set(g, []).get(g)!).push(i));
  const clusters = [...members.values()];
  const draws = opts.draws ?? 2000;
  const level = opts.level ?? 0.95;
  const values: number[] = [];
  for (let d = 0; d < draws; d++) {
    const idx: number[] = [];
    for (let c = 0; c < clusters.length; c++) idx.push(...clusters[Math.floor(opts.random() * clusters.length)]);
    const v = statistic(idx);
    if (Number.isFinite(v)) values.push(v);
  }
  values.sort((a, b) => a - b);
  const at = (q: number) => values[Math.min(values.length - 1, Math.max(0, Math.floor(q * values.length)))];
  const all = groups.map((_, i) => i);
  return { estimate: statistic(all), low: at((1 - level) / 2), high: at(1 - (1 - level) / 2), aboveZero: values.filter((v) => v > 0).length / Math.max(1, values.length), draws: values.length };
}

export interface HeldOutIntervals {
  level: number;
  /** Independent units drawn: blocks of near-duplicate file numbers, or images. */
  units: number;
  draws: number;
  accuracy: Interval;
  /** Malignant-vs-benign AUC, when a negative class is named. */
  binaryAuc: Interval | null;
}

/** Accuracy of the drawn images (argmax against the label). */
export function accuracyOf(probabilities: ArrayLike<number>[], labels: number[]): (idx: number[]) => number {
  return (idx) => idx.filter((i) => argmax(probabilities[i]) === labels[i]).length / idx.length;
}

/** Binary positive-vs-`negative` ROC AUC of the drawn images (NaN when a draw lacks either side). */
export function binaryAucOf(probabilities: ArrayLike<number>[], labels: number[], negative: number): (idx: number[]) => number {
  return (idx) =>
    rocAuc(
      idx.map((i) => 1 - probabilities[i][negative]),
      idx.map((i) => labels[i] !== negative),
    );
}

/** 95% intervals of a held-out part's accuracy and binary AUC by the bootstrap over `groups` (seeded). */
export function heldOutIntervals(probabilities: ArrayLike<number>[], labels: number[], groups: readonly string[], negative: number | null, random: () => number, draws = 2000): HeldOutIntervals {
  const opts = { draws, random };
  return {
    level: 0.95,
    units: new Set(groups).size,
    draws,
    accuracy: clusterBootstrap(groups, accuracyOf(probabilities, labels), opts),
    binaryAuc: negative === null || negative < 0 ? null : clusterBootstrap(groups, binaryAucOf(probabilities, labels, negative), opts),
  };
}

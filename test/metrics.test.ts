import { describe, expect, it } from 'vitest';
import { averagePrecision, clusterBootstrap, computeMetrics, confusionMatrix, expectedCalibrationError, rocAuc, rocCurve } from '../src/engine/metrics.js';
import { rng } from '../src/core/random.js';

describe('metrics, on cases worked out by hand', () => {
  it('confusion matrix, accuracy, precision, recall and F1', () => {
    // true:      0 0 0 1 1 2
    // predicted: 0 0 1 1 2 2
    const probs = [
      [0.8, 0.1, 0.1],
      [0.6, 0.3, 0.1],
      [0.3, 0.6, 0.1],
      [0.2, 0.7, 0.1],
      [0.1, 0.4, 0.5],
      [0.1, 0.1, 0.8],
    ];
    const m = computeMetrics(probs, [0, 0, 0, 1, 1, 2], ['a', 'b', 'c']);
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    expect(m.accuracy).toBeCloseTo(4 / 6);
    expect(m.perClass.a).toMatchObject({ precision: 1, recall: 2 / 3, support: 3 });
    expect(m.perClass.b.precision).toBeCloseTo(1 / 2);
    expect(m.perClass.b.recall).toBeCloseTo(1 / 2);
    expect(m.perClass.c.precision).toBeCloseTo(1 / 2);
    expect(m.perClass.c.f1).toBeCloseTo(2 / 3);
    expect(m.macro.f1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3);
    // Class a: positives score 0.8, 0.6, 0.3; negatives 0.2, 0.1, 0.1 → every positive above every negative.
    expect(m.perClass.a.auc).toBe(1);
  });

  it('ROC AUC counts tied scores as one half', () => {
    expect(rocAuc([0.5, 0.5], [true, false])).toBe(0.5);
    // positives 0.9, 0.4; negatives 0.4, 0.1: pairs (0.9>0.4)=1, (0.9>0.1)=1, (0.4=0.4)=0.5, (0.4>0.1)=1 → 3.5/4
    expect(rocAuc([0.9, 0.4, 0.4, 0.1], [true, true, false, false])).toBe(0.875);
    expect(rocAuc([0.1, 0.2, 0.3], [true, true, true])).toBeNaN();
    expect(rocCurve([0.9, 0.4, 0.4, 0.1], [true, true, false, false])).toEqual([
      [0, 0],
      [0, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
  });

  it('average precision with tied scores takes the tie as one threshold', () => {
    // sorted: 0.9(+) 0.8(−) 0.7(+): AP = 0.5·1 + 0.5·(2/3)
    expect(averagePrecision([0.9, 0.8, 0.7], [true, false, true])).toBeCloseTo(0.5 + 1 / 3);
    // tie at 0.5 between one positive and one negative: one step to recall 1 at precision 1/2
    expect(averagePrecision([0.5, 0.5], [true, false])).toBeCloseTo(0.5);
    expect(averagePrecision([0.5, 0.4], [false, false])).toBeNaN();
  });

  it('a single-class evaluation set gives NaN AUC, not a crash, and macro skips it', () => {
    const m = computeMetrics(
      [
        [0.9, 0.1],
        [0.4, 0.6],
      ],
      [0, 0],
      ['x', 'y'],
    );
    expect(m.accuracy).toBe(0.5);
    expect(m.perClass.x.auc).toBeNaN();
    expect(m.perClass.y.support).toBe(0);
    expect(m.perClass.y.ap).toBeNaN();
    expect(m.macro.auc).toBeNaN();
    expect(m.mAP).toBe(1); // x: both positives, AP 1; y: no positives, skipped
  });

  it('binary malignant-vs-benign from the same output, and calibration error', () => {
    const probs = [
      [0.7, 0.2, 0.1], // benign, right
      [0.2, 0.5, 0.3], // malignant, right
      [0.6, 0.3, 0.1], // malignant, called benign
      [0.1, 0.1, 0.8], // malignant, right
    ];
    const m = computeMetrics(probs, [0, 1, 2, 1], ['Benign', 'Early', 'Pre'], 'Benign');
    expect(m.binary).toMatchObject({ accuracy: 0.75, sensitivity: 2 / 3, specificity: 1 });
    // malignancy scores 0.3 (benign) vs 0.8, 0.4, 0.9 → all above → AUC 1
    expect(m.binary!.auc).toBe(1);
    // ECE: one sample per bin here; |acc − conf| each: |1−.7|, |1−.5|, |0−.6|, |0−.8| → mean 0.55
    expect(expectedCalibrationError(probs, [0, 1, 2, 1])).toBeCloseTo((0.3 + 0.5 + 0.6 + 0.8) / 4);
    expect(confusionMatrix([0, 1], [1, 1], 2)).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });
});

describe('cluster bootstrap', () => {
  const mean = (values: number[]) => (idx: number[]) => idx.reduce((a, i) => a + values[i], 0) / idx.length;

  it('draws whole clusters: three draws worked out by hand', () => {
    // Two clusters of one image (0 and 1). Draws pick cluster floor(r·2): (0,1) → 0.5, (0,0) → 0, (1,1) → 1.
    const r = [0.1, 0.9, 0.1, 0.2, 0.7, 0.9];
    let k = 0;
    const out = clusterBootstrap(['a', 'b'], mean([0, 1]), { draws: 3, random: () => r[k++] });
    expect(out).toEqual({ estimate: 0.5, low: 0, high: 1, aboveZero: 2 / 3, draws: 3 });
    // A statistic undefined on a draw (NaN) leaves that draw out.
    k = 0;
    const some = clusterBootstrap(['a', 'b'], (idx) => (new Set(idx).size === 2 ? 1 : NaN), { draws: 3, random: () => r[k++] });
    expect(some.draws).toBe(1);
  });

  it('near-duplicates in one cluster widen the interval as ten images, not a hundred, would', () => {
    // 100 images, right or wrong in blocks of ten: as clusters the evidence is ten blocks.
    const right = Array.from({ length: 100 }, (_, i) => (Math.floor(i / 10) % 2 === 0 ? 1 : 0));
    const blocks = clusterBootstrap(
      right.map((_, i) => `b${Math.floor(i / 10)}`),
      mean(right),
      { random: rng(1) },
    );
    const single = clusterBootstrap(
      right.map((_, i) => `i${i}`),
      mean(right),
      { random: rng(1) },
    );
    expect(blocks.estimate).toBe(0.5);
    expect(single.estimate).toBe(0.5);
    // Standard errors: 0.5/√10 = 0.158 and 0.5/√100 = 0.05, so 95% widths near 0.62 and 0.20.
    expect(blocks.high - blocks.low).toBeGreaterThan(0.5);
    expect(blocks.high - blocks.low).toBeLessThan(0.75);
    expect(single.high - single.low).toBeGreaterThan(0.15);
    expect(single.high - single.low).toBeLessThan(0.25);
    expect(
      clusterBootstrap(
        right.map((_, i) => `b${Math.floor(i / 10)}`),
        mean(right),
        { random: rng(1) },
      ),
    ).toEqual(blocks); // seeded
    expect(
      clusterBootstrap(
        right.map(() => 'x'),
        mean(right.map(() => 1)),
        { random: rng(2) },
      ),
    ).toMatchObject({ estimate: 1, low: 1, high: 1 });
  });
});

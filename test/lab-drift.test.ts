// The status line's word on a lab whose new slides the model flags (issue #39): said when most of the
// last new slides are flagged, and only once there are enough of them to say it.
import { describe, expect, it } from 'vitest';
import { adaptHint, DRIFT_MIN_SLIDES, DRIFT_WINDOW, recentFlags, withSlide } from '../src/state/lab-drift.js';

const slides = (flags: boolean[]) => flags.reduce<boolean[]>((w, f) => withSlide(w, f), []);

describe('the hint to adapt', () => {
  it('points to adapt when most of the last new slides are flagged', () => {
    const hint = adaptHint(recentFlags(slides([...Array(15).fill(true), ...Array(10).fill(false)])));
    expect(hint).toMatch(/15\/25 new slides unlike the training images/);
    expect(hint).toMatch(/slidetriage adapt/);
  });

  it('says nothing while half or fewer are flagged, or too few slides have come', () => {
    expect(adaptHint(recentFlags(slides([...Array(12).fill(true), ...Array(12).fill(false)])))).toBeNull();
    expect(adaptHint(recentFlags(slides(Array(DRIFT_MIN_SLIDES - 1).fill(true))))).toBeNull();
  });

  it('forgets the slides before the window, so that an adapted lab stops being told', () => {
    const window = slides([...Array(DRIFT_WINDOW).fill(true), ...Array(DRIFT_WINDOW - 5).fill(false)]);
    expect(window).toHaveLength(DRIFT_WINDOW);
    expect(recentFlags(window)).toEqual({ n: DRIFT_WINDOW, flagged: 5 });
    expect(adaptHint(recentFlags(window))).toBeNull();
  });
});

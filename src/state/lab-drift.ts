// Whether the slides arriving look like another lab's (issue #39): of the last new slides the model
// classified here, how many its out-of-distribution check flagged. When most are, one slide's warning is
// not the news: the lab is, and `adapt` is what to do about it, so the status line says so.

/** New slides remembered; the share is over these. */
export const DRIFT_WINDOW = 50;
/** Fewer new slides than this say nothing about a lab. */
export const DRIFT_MIN_SLIDES = 20;

export interface RecentFlags {
  n: number;
  flagged: number;
}

/** The window after one more classified slide. */
export function withSlide(flags: boolean[], unusual: boolean): boolean[] {
  return [...flags.slice(-(DRIFT_WINDOW - 1)), unusual];
}

export function recentFlags(flags: boolean[]): RecentFlags {
  return { n: flags.length, flagged: flags.filter(Boolean).length };
}

/** The status line's word on the lab, or null while the new slides look like the training images. */
export function adaptHint({ n, flagged }: RecentFlags): string | null {
  if (n < DRIFT_MIN_SLIDES || flagged * 2 <= n) return null;
  return `⚠ ${flagged}/${n} new slides unlike the training images: slidetriage adapt`;
}

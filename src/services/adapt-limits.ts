// How many of a lab's slides `adapt` reads: apart, so that `--help` and the command table load nothing else.
/** Fewer than this and a lab's colour is a handful of slides' colour, and its half in the index too few neighbours. */
export const ADAPT_MIN_SLIDES = 40;
/** More adds little to three channel statistics, and the index grows by half of them. */
export const ADAPT_MAX_SLIDES = 400;

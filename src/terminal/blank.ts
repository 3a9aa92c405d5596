/** What fills a picture's cells in Ink's frame: a blank (U+2800) that no other text here uses, so that a frame write holding one is known to have erased a picture's row (painter.ts). */
export const BLANK = '\u2800';

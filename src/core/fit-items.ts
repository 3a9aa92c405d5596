// A line of items ("j down · Enter open · ? keys") fitted to a width by whole items: a hint or a count cut
// mid-word says nothing, and the items a technician needs everywhere (`? keys`, `q quit`) stay at the end.

export const ITEM_SEPARATOR = ' · ';
/** Columns of a line of these items: one a code point (their symbols, ↑ ↓ · ⚠ …, are one column wide). */
const stringWidth = (text: string) => [...text].length;
const MORE = '…';

/**
 * The items joined, as many from the start as fit in `width` columns with `last` after them; where some
 * are left out, `…` stands for them. `last` is kept whole even when nothing else fits.
 */
export function fitItems(items: string[], width: number, last: string[] = []): string {
  const all = [...items, ...last].join(ITEM_SEPARATOR);
  if (stringWidth(all) <= width) return all;
  const tail = [MORE, ...last].join(ITEM_SEPARATOR);
  const kept: string[] = [];
  for (const item of items) {
    const next = [...kept, item].join(ITEM_SEPARATOR);
    if (stringWidth(next + ITEM_SEPARATOR + tail) > width) break;
    kept.push(item);
  }
  return [...kept, tail].join(ITEM_SEPARATOR);
}

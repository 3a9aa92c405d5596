// The queue's rows: sorted and filtered by the store (in SQL), fetched a few pages at a time around the
// selection, so that the app holds the list's keys and a few hundred rows, never the whole store.
import type { QueueRow } from '../store/types.js';

export type { QueueRow as SlideRow, SortMode, StateFilter } from '../store/types.js';

/** Rows fetched per page; the page of the selection and one either side are held. */
export const PAGE = 64;

/** The page the row at `at` is on. */
export const pageOf = (at: number) => Math.floor(Math.max(0, at) / PAGE);

/** The keys of the pages around the row at `at`. */
export function keysAround(order: string[], at: number): string[] {
  const start = Math.max(0, (pageOf(at) - 1) * PAGE);
  return order.slice(start, start + 3 * PAGE);
}

/** The queue as the app holds it: every key in order, and the rows fetched. */
export interface QueueView {
  order: string[];
  rows: ReadonlyMap<string, QueueRow>;
}

export const EMPTY_QUEUE: QueueView = { order: [], rows: new Map() };

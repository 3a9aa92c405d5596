// The queue's rows: sorted and filtered by the store (in SQL), fetched a few pages at a time around the
// selection. The app holds a window of the list's keys (a sparse array as long as the list: holes outside
// the window) and their rows, never the whole store (issue #37).
import type { QueueRow } from '../store/types.js';

export type { QueueRow as SlideRow, SortMode, StateFilter } from '../store/types.js';

/** Rows fetched per page; the page of the selection and one either side are held. */
export const PAGE = 64;

/** The page the row at `at` is on. */
export const pageOf = (at: number) => Math.floor(Math.max(0, at) / PAGE);

/** The keys read of the pages around the row at `at`. */
export function keysAround(order: string[], at: number): string[] {
  const start = Math.max(0, (pageOf(at) - 1) * PAGE);
  return order.slice(start, start + 3 * PAGE).filter((k) => k !== undefined);
}

/** The list as long as the queue, with the window's keys in their places and holes elsewhere. */
export function sparseOrder(window: { keys: string[]; offset: number; total: number }): string[] {
  const order = new Array<string>(window.total);
  window.keys.forEach((k, i) => (order[window.offset + i] = k));
  return order;
}

/** The queue as the app holds it: the list's keys (read around the selection; holes elsewhere), and the rows fetched. */
export interface QueueView {
  order: string[];
  rows: ReadonlyMap<string, QueueRow>;
}

export const EMPTY_QUEUE: QueueView = { order: [], rows: new Map() };

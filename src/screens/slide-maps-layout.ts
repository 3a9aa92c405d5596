// Where the slide view's pictures go, in cells: one map as large as the space beside the probabilities allows
// with the others as thumbnails in a column beside it, or all in a row (v). Pictures are kept square with
// cells about twice as tall as wide, as the terminals here draw them; the picture fits itself inside.
import type { TriageState } from '../state/triage.js';

export type MapsLayout =
  | { kind: 'large'; width: number; large: string; position: number; largeCols: number; largeRows: number; thumbnails: string[]; thumbCols: number; thumbRows: number }
  | { kind: 'side-by-side'; width: number; maps: string[]; cols: number; rows: number };

/** Columns the text beside the pictures keeps (probabilities, label, messages) and its margin. */
const TEXT_COLUMNS = 42;
/** Rows the rest of the slide view takes: title, a caption, the line on what the map shows, key hints, status bar. */
const OTHER_ROWS = 11;
/** A thumbnail smaller than this many rows shows nothing a technician can read: fewer thumbnails then. */
const MIN_THUMB_ROWS = 4;

export function slideMapsLayout(maps: readonly string[], state: Pick<TriageState, 'layout' | 'enlarged'>, width: number, height: number): MapsLayout {
  const rows = Math.max(6, height - OTHER_ROWS);
  const available = Math.max(20, width - TEXT_COLUMNS);
  // In a row only while every map gets at least 12 columns.
  if (state.layout === 'side-by-side' && maps.length > 1 && Math.floor(available / 13) >= maps.length) {
    const cols = Math.floor(available / maps.length) - 1;
    return { kind: 'side-by-side', width: available, maps: [...maps], cols, rows: Math.min(rows, Math.ceil(cols / 2)) };
  }
  // The default map (the first method's, after the plain image) is the large one until Tab moves on.
  const position = maps.length ? ((maps.length > 1 ? 1 : 0) + state.enlarged) % maps.length : 0;
  const large = maps[position] ?? 'image';
  const others = maps.filter((m) => m !== large);
  const thumbCols = Math.min(30, Math.max(12, Math.floor(available / 4)));
  const room = available - thumbCols - 3 >= 20 ? Math.floor(rows / (MIN_THUMB_ROWS + 1)) : 0;
  const thumbnails = others.slice(0, room);
  // Each thumbnail with its caption line; square, so no taller than half its width.
  const thumbRows = thumbnails.length ? Math.min(Math.ceil(thumbCols / 2), Math.floor(rows / thumbnails.length) - 1) : 0;
  // Each picture's box is a column wider than the picture; the thumbnails' column has a margin of 1.
  const largeCols = Math.min(available - 1 - (thumbnails.length ? thumbCols + 2 : 0), rows * 2);
  const used = largeCols + 1 + (thumbnails.length ? thumbCols + 2 : 0);
  return { kind: 'large', width: used, large, position, largeCols, largeRows: rows, thumbnails, thumbCols, thumbRows };
}

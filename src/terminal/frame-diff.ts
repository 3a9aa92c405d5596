// Ink (6.8) rewrites its whole frame whenever anything changes: every line erased and written again, the
// picture rows with them, so every sixel picture had to be sent again after a one-line change (42.8 KB for
// the note line over SSH, bench:ui). This turns a frame of the same height as the last into the lines
// that changed, each rewritten in place, and says whether a picture's row was among them. A frame of
// another height, or one not shaped as Ink writes them, goes out whole. (Ink's own incrementalRendering
// misplaces frames that change height.)
import { BLANK } from './blank.js';

const ESC = '\u001b';
const SYNC_START = `${ESC}[?2026h`;
const SYNC_END = `${ESC}[?2026l`;
/** What Ink puts before a frame: the last frame's lines erased bottom up (ansi-escapes' eraseLines), or the screen cleared. */
const ERASE = new RegExp(`^((?:${ESC}\\[2K${ESC}\\[1A)*${ESC}\\[2K${ESC}\\[G)`);
const CLEAR = new RegExp(`^${ESC}\\[2J${ESC}\\[3J${ESC}\\[H`);

export interface FrameWrite {
  /** What to write instead of the frame. */
  text: string;
  /** A line holding a picture's cells was written (the pictures must be drawn again). */
  picturesErased: boolean;
}

export class FrameDiff {
  private lines: string[] | null = null;

  /** The write for one chunk of Ink's: the changed lines of a frame, else the chunk as it is. */
  rewrite(chunk: string): FrameWrite {
    const start = chunk.startsWith(SYNC_START) ? SYNC_START : '';
    const end = chunk.endsWith(SYNC_END) ? SYNC_END : '';
    const inner = chunk.slice(start.length, chunk.length - end.length);
    const erase = ERASE.exec(inner)?.[1] ?? CLEAR.exec(inner)?.[0] ?? null;
    if (erase === null) return { text: chunk, picturesErased: chunk.includes(BLANK) };
    const body = inner.slice(erase.length);
    const next = body.split('\n');
    const previous = this.lines;
    this.lines = next;
    const erasedLines = erase.startsWith(`${ESC}[2J`) ? null : erase.split(`${ESC}[2K`).length - 1;
    const sameShape = previous && previous.length === next.length && (erasedLines === null || erasedLines === previous.length);
    if (!sameShape || body.includes(ESC + '[2J')) return { text: chunk, picturesErased: body.includes(BLANK) };
    // Each changed line: written from its pictures' edge on (tail), or whole (null).
    const tails = next.map((l, i) => (l === previous[i] ? undefined : afterPictures(previous[i], l)));
    const erased = next.some((l, i) => tails[i] === null && (l.includes(BLANK) || previous[i].includes(BLANK)));
    return { text: start + changedLines(next, tails) + end, picturesErased: erased };
  }

  /** Forgets the last frame (the screen was cleared or resized behind Ink's back): the next one goes out whole. */
  reset(): void {
    this.lines = null;
  }
}

/** The escapes of a line, to measure what it shows. */
const ESCAPES = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g');

/**
 * A changed line whose pictures' cells are unchanged (the text beside a picture: a note, a message): the
 * column after its last picture cell and the rest of the line, to be written from there so that the picture
 * stays on the screen. Null where the change reaches the pictures, or the part before cannot be measured
 * (anything but ASCII and picture cells in it).
 */
function afterPictures(previous: string, next: string): { column: number; text: string } | null {
  const cut = next.lastIndexOf(BLANK) + 1;
  if (cut === 0 || previous.slice(0, cut) !== next.slice(0, cut) || previous.lastIndexOf(BLANK) + 1 !== cut) return null;
  const shown = next.slice(0, cut).replace(ESCAPES, '');
  if (![...shown].every((c) => c === BLANK || (c >= ' ' && c <= '~'))) return null;
  return { column: [...shown].length, text: next.slice(cut) };
}

/**
 * From the cursor on the frame's last line (where Ink leaves it) up to the first, each changed line
 * erased whole and written (erasing first: a line as wide as the terminal leaves the cursor on its last
 * column, where an erase to the end would take its last character), back down to the last line. A line
 * that changed only right of its pictures is written from there, so the pictures stay.
 */
function changedLines(next: string[], tails: Array<{ column: number; text: string } | null | undefined>): string {
  const last = next.length - 1;
  const down = (rows: number) => (rows ? `${ESC}[${rows}B` : '');
  let out = last > 0 ? `${ESC}[${last}A` : '';
  let row = 0;
  for (let i = 0; i <= last; i++) {
    const tail = tails[i];
    if (tail === undefined) continue;
    out += down(i - row) + (tail === null ? `\r${ESC}[2K${next[i]}` : `\r${tail.column ? `${ESC}[${tail.column}C` : ''}${ESC}[0m${ESC}[K${tail.text}`);
    row = i;
  }
  return `${out}${down(last - row)}\r`;
}

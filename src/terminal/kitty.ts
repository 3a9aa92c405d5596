// The kitty graphics protocol with Unicode placeholders (kitty ≥ 0.28, Ghostty): the image is sent once
// as a virtual placement of columns × rows cells, then shown by ordinary text cells, U+10EEEE with a row
// and a column diacritic, whose foreground colour names the image. Ink redraws those like any text, so
// the image moves and disappears with the frame and leaves nothing behind.
// https://sw.kovidgoyal.net/kitty/graphics-protocol/#unicode-placeholders
/* eslint-disable no-control-regex -- terminal replies and escapes are control characters */
import { KITTY_DIACRITICS } from './kitty-diacritics.js';

const ESC = '\u001b';
export const PLACEHOLDER = String.fromCodePoint(0x10eeee);
/** Base64 bytes per escape: the protocol's limit. */
const CHUNK = 4096;

/** The most cells a placement can have on a side: one diacritic per row or column. */
export const KITTY_MAX_CELLS = KITTY_DIACRITICS.length;

/** The escapes that send a PNG as image `id` (1–255, so that it fits a 256-colour foreground) for columns × rows cells. */
export function kittyTransmit(id: number, png: Buffer, columns: number, rows: number): string[] {
  const data = png.toString('base64');
  const out: string[] = [];
  for (let at = 0; at < data.length || at === 0; at += CHUNK) {
    const more = at + CHUNK < data.length ? 1 : 0;
    const keys = at === 0 ? `a=T,U=1,f=100,t=d,q=2,i=${id},c=${columns},r=${rows},m=${more}` : `m=${more}`;
    out.push(`${ESC}_G${keys};${data.slice(at, at + CHUNK)}${ESC}\\`);
  }
  return out;
}

/** Frees image `id` and its placements. */
export function kittyDelete(id: number): string {
  return `${ESC}_Ga=d,d=I,i=${id},q=2${ESC}\\`;
}

/** The text lines that show image `id`: every cell names its row and column, so no cell depends on its neighbour. */
export function kittyPlaceholderLines(id: number, columns: number, rows: number): string[] {
  if (columns > KITTY_MAX_CELLS || rows > KITTY_MAX_CELLS) throw new Error(`a kitty placement is at most ${KITTY_MAX_CELLS} cells on a side`);
  const mark = (i: number) => String.fromCodePoint(KITTY_DIACRITICS[i]);
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    let line = `${ESC}[38;5;${id}m`;
    for (let c = 0; c < columns; c++) line += PLACEHOLDER + mark(r) + mark(c);
    lines.push(`${line}${ESC}[39m`);
  }
  return lines;
}

export interface KittyCommand {
  keys: Record<string, string>;
  /** The payload of all its chunks, joined. */
  payload: string;
}

/** The graphics commands in a stream, chunks joined (for tests and for checking what a screen was sent). */
export function parseKittyCommands(stream: string): KittyCommand[] {
  const commands: KittyCommand[] = [];
  let open: KittyCommand | null = null;
  for (const m of stream.matchAll(new RegExp(`${ESC}_G([^;${ESC}]*);?([^${ESC}]*)${ESC}\\\\`, 'g'))) {
    const keys = Object.fromEntries(
      m[1]
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('=') as [string, string]),
    );
    if (open) open.payload += m[2];
    else open = { keys, payload: m[2] };
    if (keys.m !== '1') {
      commands.push(open);
      open = null;
    }
  }
  return commands;
}

/** Which image, row and column each placeholder cell of some lines shows. */
export function readPlaceholders(lines: string[]): { id: number; row: number; column: number }[][] {
  const index = new Map(KITTY_DIACRITICS.map((cp, i) => [cp, i]));
  return lines.map((line) => {
    const id = Number(/\u001b\[38;5;(\d+)m/.exec(line)?.[1] ?? NaN);
    return [...line.matchAll(/\u{10EEEE}(.)(.)/gu)].map((m) => ({ id, row: index.get(m[1].codePointAt(0)!) ?? -1, column: index.get(m[2].codePointAt(0)!) ?? -1 }));
  });
}

// Images as text: each cell an upper half block, its foreground the pixel above and its background the
// pixel below, in 24-bit colour from the image's own pixels, or the nearest of xterm's 256 colours where
// the terminal does not announce 24-bit colour (COLORTERM).
import { loadPicture } from './picture.js';

const ESC = '\u001b';

export interface Cells {
  /** One string per terminal row. */
  lines: string[];
  columns: number;
  rows: number;
}

const CUBE = [0, 95, 135, 175, 215, 255];

/** The nearest xterm-256 colour: of the 6×6×6 cube and the 24 greys, whichever is closer. */
export function nearest256(r: number, g: number, b: number): number {
  const level = (v: number) => CUBE.reduce((best, c, i) => (Math.abs(c - v) < Math.abs(CUBE[best] - v) ? i : best), 0);
  const [ri, gi, bi] = [level(r), level(g), level(b)];
  const cube = [CUBE[ri], CUBE[gi], CUBE[bi]];
  const grey = Math.min(23, Math.max(0, Math.round(((r + g + b) / 3 - 8) / 10)));
  const g8 = 8 + grey * 10;
  const dist = (c: number[]) => (c[0] - r) ** 2 + (c[1] - g) ** 2 + (c[2] - b) ** 2;
  return dist([g8, g8, g8]) < dist(cube) ? 232 + grey : 16 + 36 * ri + 6 * gi + bi;
}

/** RGB pixels (columns × 2·rows) → half-block lines. */
export function halfBlockLines(rgb: Uint8Array, columns: number, rows: number, colour: 'truecolor' | '256' = 'truecolor'): string[] {
  const lines: string[] = [];
  const px = (x: number, y: number) => {
    const i = (y * columns + x) * 3;
    return colour === 'truecolor' ? `2;${rgb[i]};${rgb[i + 1]};${rgb[i + 2]}` : `5;${nearest256(rgb[i], rgb[i + 1], rgb[i + 2])}`;
  };
  for (let r = 0; r < rows; r++) {
    let line = '';
    for (let x = 0; x < columns; x++) line += `${ESC}[38;${px(x, 2 * r)}m${ESC}[48;${px(x, 2 * r + 1)}m▀`;
    lines.push(`${line}${ESC}[39m${ESC}[49m`);
  }
  return lines;
}

/** An image file (PNG, JPEG …) drawn in at most columns × rows cells, aspect kept. */
export async function drawHalfBlocks(image: Buffer | string, columns: number, rows: number, colour: 'truecolor' | '256' = 'truecolor'): Promise<Cells> {
  const p = await loadPicture({ protocol: 'blocks', cell: null }, image, columns, rows);
  return { lines: halfBlockLines(p.rgb, p.columns, p.rows, colour), columns: p.columns, rows: p.rows };
}

/** Back from 24-bit half-block lines to RGB (for tests, and to check what a screen shows). */
export function decodeHalfBlocks(lines: string[]): { rgb: Uint8Array; columns: number; rows: number } {
  const cell = new RegExp(`${ESC}\\[38;2;(\\d+);(\\d+);(\\d+)m${ESC}\\[48;2;(\\d+);(\\d+);(\\d+)m▀`, 'g');
  const parsed = lines.map((l) => [...l.matchAll(cell)].map((m) => m.slice(1, 7).map(Number)));
  const columns = parsed[0]?.length ?? 0;
  const rgb = new Uint8Array(columns * lines.length * 2 * 3);
  parsed.forEach((cells, r) =>
    cells.forEach((c, x) => {
      rgb.set(c.slice(0, 3), 2 * r * columns * 3 + x * 3);
      rgb.set(c.slice(3, 6), (2 * r + 1) * columns * 3 + x * 3);
    }),
  );
  return { rgb, columns, rows: lines.length };
}

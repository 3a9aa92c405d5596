// Images as text: each cell an upper half block, its foreground the pixel above and its background the
// pixel below, both in 24-bit colour from the image's own pixels (terminal-image went through chalk's
// 256-colour palette on terminals that do not announce truecolor, and rounded every colour to the cube).
// A terminal without 24-bit colour (or tmux without RGB) maps each colour to its nearest itself.
import sharp from 'sharp';

const ESC = '\u001b';

export interface Cells {
  /** One string per terminal row. */
  lines: string[];
  columns: number;
  rows: number;
}

/** The size in cells, at most columns × rows, that keeps the image's aspect (a cell is two pixels tall). */
export function fitCells(width: number, height: number, columns: number, rows: number): { columns: number; rows: number } {
  const scale = Math.min(columns / width, (rows * 2) / height);
  return { columns: Math.max(1, Math.round(width * scale)), rows: Math.max(1, Math.round((height * scale) / 2)) };
}

/** RGB pixels (width × 2·rows) → half-block lines. */
export function halfBlockLines(rgb: Uint8Array, columns: number, rows: number): string[] {
  const lines: string[] = [];
  const px = (x: number, y: number) => {
    const i = (y * columns + x) * 3;
    return `${rgb[i]};${rgb[i + 1]};${rgb[i + 2]}`;
  };
  for (let r = 0; r < rows; r++) {
    let line = '';
    for (let x = 0; x < columns; x++) line += `${ESC}[38;2;${px(x, 2 * r)}m${ESC}[48;2;${px(x, 2 * r + 1)}m▀`;
    lines.push(`${line}${ESC}[39m${ESC}[49m`);
  }
  return lines;
}

/** An image file (PNG, JPEG …) drawn in at most columns × rows cells, aspect kept. */
export async function drawHalfBlocks(image: Buffer | string, columns: number, rows: number): Promise<Cells> {
  const size = await cellsFor(image, columns, rows);
  return { lines: halfBlockLines(await cellPixels(image, size), size.columns, size.rows), ...size };
}

/** The cells an image takes in at most columns × rows, aspect kept. */
export async function cellsFor(image: Buffer | string, columns: number, rows: number): Promise<{ columns: number; rows: number }> {
  const meta = await sharp(image).metadata();
  return fitCells(meta.width ?? 1, meta.height ?? 1, columns, rows);
}

/** The image's RGB pixels resized to fill those cells (two pixels a cell, vertically). */
export function cellPixels(image: Buffer | string, size: { columns: number; rows: number }): Promise<Buffer> {
  return sharp(image).removeAlpha().resize(size.columns, size.rows * 2, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
}

/** Back from half-block lines to RGB (for tests, and to check what a screen shows). */
export function decodeHalfBlocks(lines: string[]): { rgb: Uint8Array; columns: number; rows: number } {
  const cell = new RegExp(`${ESC}\\[38;2;(\\d+);(\\d+);(\\d+)m${ESC}\\[48;2;(\\d+);(\\d+);(\\d+)m▀`, 'g');
  const parsed = lines.map((l) => [...l.matchAll(cell)].map((m) => m.slice(1, 7).map(Number)));
  const columns = parsed[0]?.length ?? 0;
  const rgb = new Uint8Array(columns * lines.length * 2 * 3);
  parsed.forEach((cells, r) =>
    cells.forEach((c, x) => {
      rgb.set(c.slice(0, 3), ((2 * r) * columns + x) * 3);
      rgb.set(c.slice(3, 6), ((2 * r + 1) * columns + x) * 3);
    }),
  );
  return { rgb, columns, rows: lines.length };
}

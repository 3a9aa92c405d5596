// Finds a picture in a screenshot of a light-background terminal and compares it with the image it
// should be: a picture is the tallest block of rows that each hold one long run of non-white pixels
// (text rows hold short runs; an inverse-video line is one row of cells tall; a rule is 1 px).
import sharp from 'sharp';
import type { Screenshot } from './xwd.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

function longestRun(s: Screenshot, y: number): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = -1;
  for (let x = 0; x <= s.width; x++) {
    const i = (y * s.width + x) * 3;
    const white = x === s.width || (s.rgb[i] > 235 && s.rgb[i + 1] > 235 && s.rgb[i + 2] > 235);
    if (!white && start < 0) start = x;
    if (white && start >= 0) {
      if (x - start > best.length) best = { start, length: x - start };
      start = -1;
    }
  }
  return best;
}

/** The largest picture at least `minSide` pixels on both sides, or null. */
export function findPicture(s: Screenshot, minSide = 100): Box | null {
  let best: Box | null = null;
  let block: { y: number; runs: { start: number; length: number }[] } | null = null;
  const close = (end: number) => {
    if (block && end - block.y >= minSide) {
      const starts = block.runs.map((r) => r.start).sort((a, b) => a - b);
      const ends = block.runs.map((r) => r.start + r.length).sort((a, b) => a - b);
      const box = { x: starts[starts.length >> 1], y: block.y, width: ends[ends.length >> 1] - starts[starts.length >> 1], height: end - block.y };
      if (!best || box.width * box.height > best.width * best.height) best = box;
    }
    block = null;
  };
  for (let y = 0; y < s.height; y++) {
    const run = longestRun(s, y);
    if (run.length >= minSide) (block ??= { y, runs: [] }).runs.push(run);
    else close(y);
  }
  close(s.height);
  return best;
}

/** The box's pixels as PNG (for docs and for looking at a failure). */
export function cropPng(s: Screenshot, box: Box): Promise<Buffer> {
  return sharp(Buffer.from(s.rgb), { raw: { width: s.width, height: s.height, channels: 3 } })
    .extract({ left: box.x, top: box.y, width: box.width, height: box.height })
    .png()
    .toBuffer();
}

/** Mean absolute difference per channel (0–255) and the correlation of brightness, both at 48 × 48. */
export async function compareWith(s: Screenshot, box: Box, expected: Buffer | string): Promise<{ meanDifference: number; correlation: number }> {
  const side = 48;
  const shown = await sharp(await cropPng(s, box))
    .resize(side, side, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer();
  const wanted = await sharp(expected).resize(side, side, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  let diff = 0;
  for (let i = 0; i < shown.length; i++) diff += Math.abs(shown[i] - wanted[i]);
  const grey = (b: Buffer) => Array.from({ length: side * side }, (_, i) => (b[3 * i] + b[3 * i + 1] + b[3 * i + 2]) / 3);
  const [a, b] = [grey(shown), grey(wanted)];
  const mean = (v: number[]) => v.reduce((p, c) => p + c, 0) / v.length;
  const [ma, mb] = [mean(a), mean(b)];
  let cov = 0;
  let va = 0;
  let vb = 0;
  a.forEach((v, i) => {
    cov += (v - ma) * (b[i] - mb);
    va += (v - ma) ** 2;
    vb += (b[i] - mb) ** 2;
  });
  return { meanDifference: diff / shown.length, correlation: cov / Math.sqrt(va * vb) };
}

/**
 * The share of horizontally neighbouring pixels inside `box` that are the same colour, over the pixels
 * that are not near-black (a cell on black is black around it in either mode): half blocks paint a cell's
 * width (8 px and more) in one colour, so theirs is near 7/8; a sixel picture of a slide's own pixels is far below.
 */
export function sameAsLeftNeighbour(s: Screenshot, box: Box): number {
  let same = 0;
  let pairs = 0;
  for (let y = box.y; y < box.y + box.height; y++)
    for (let x = box.x + 1; x < box.x + box.width; x++) {
      const p = (y * s.width + x) * 3;
      if (s.rgb[p] + s.rgb[p + 1] + s.rgb[p + 2] < 90) continue;
      pairs++;
      if (s.rgb[p] === s.rgb[p - 3] && s.rgb[p + 1] === s.rgb[p - 2] && s.rgb[p + 2] === s.rgb[p - 1]) same++;
    }
  return pairs ? same / pairs : 0;
}

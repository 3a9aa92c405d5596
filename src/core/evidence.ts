// The cells a map means, as CellaVision shows each cell: the 1–3 white cells under the map's strongest
// relevance, each as a box on the slide with its share of the map. White cells are found by their stain: a
// nucleus is purple (red and blue above green) against pink red cells and pale background, so the
// purple-ness (R + B) / 2 − G is split by Otsu's threshold, on a grid of 4 × 4-pixel blocks (a block is on
// when a quarter of it is) so that a nucleus's lobes and the specks between them join into one cell.
import { components } from './components.js';

/** A box on the slide, as fractions of its side (so that it fits the original at any resolution). */
export interface EvidenceBox {
  x: number;
  y: number;
  w: number;
  h: number;
  /** The map's relevance inside the box, as a share of the whole map's. */
  share: number;
}

/** A box with the file of its crop (relative to the store folder), as the evidence file lists them. */
export type EvidenceCell = EvidenceBox & { crop: string };

/** The key of a prediction's explanations that names its evidence file (JSON: the boxes, most first). */
export const EVIDENCE_KEY = 'evidence';

const BLOCK = 4;
/** Regions under this share of the image are specks (a platelet, a JPEG artefact), not white cells. */
const MIN_REGION = 0.004;
/** A cell with less of the map than this is not shown as evidence (the first always is). */
const MIN_SHARE = 0.05;
/** The box around a cell's stained region: this much wider on each side, for the cytoplasm around the nucleus. */
const MARGIN = 0.35;
/** A stained region wider than this share of the slide's side is several cells touching. */
const MAX_CELL = 0.22;

/** Otsu's threshold of values (the split that makes the two sides' spreads least), over 64 bins. */
function otsu(values: Float32Array): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  if (hi - lo < 1e-6) return hi;
  const bins = new Float64Array(64);
  for (const v of values) bins[Math.min(63, Math.floor(((v - lo) / (hi - lo)) * 64))]++;
  const total = values.length;
  const sumAll = bins.reduce((s, n, i) => s + n * i, 0);
  let [best, split, below, sumBelow] = [-1, 0, 0, 0];
  for (let i = 0; i < 63; i++) {
    below += bins[i];
    sumBelow += bins[i] * i;
    if (!below || below === total) continue;
    const between = below * (total - below) * (sumBelow / below - (sumAll - sumBelow) / (total - below)) ** 2;
    if (between > best) [best, split] = [between, i];
  }
  return lo + ((split + 1) / 64) * (hi - lo);
}

/** The stained blocks: a grid of side size / BLOCK, on where a quarter of the block's pixels pass Otsu's split. */
function stainedGrid(image: Float32Array, size: number): { grid: Uint8Array; side: number } {
  const purple = new Float32Array(size * size);
  for (let p = 0; p < purple.length; p++) purple[p] = (image[p * 3] + image[p * 3 + 2]) / 2 - image[p * 3 + 1];
  const level = otsu(purple);
  const side = Math.floor(size / BLOCK);
  const counts = new Uint16Array(side * side);
  for (let y = 0; y < side * BLOCK; y++) for (let x = 0; x < side * BLOCK; x++) if (purple[y * size + x] > level) counts[Math.floor(y / BLOCK) * side + Math.floor(x / BLOCK)]++;
  return { grid: Uint8Array.from(counts, (n) => (n >= (BLOCK * BLOCK) / 4 ? 1 : 0)), side };
}

/** The share of the map inside a box of pixels [x0, x1) × [y0, y1). */
function shareIn(map: Float32Array, size: number, total: number, x0: number, y0: number, x1: number, y1: number): number {
  let sum = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += map[y * size + x];
  return total > 0 ? sum / total : 0;
}

/**
 * The boxes' shares with each pixel counted once, for the box with the most of the map that holds it (boxes
 * of neighbouring cells overlap: counted in each, three shares once added up to 139%), most first again.
 */
function withoutOverlap(cells: EvidenceBox[], map: Float32Array, size: number, total: number): EvidenceBox[] {
  const counted = new Uint8Array(size * size);
  const pixels = (v: number) => Math.round(v * size);
  return cells
    .map((c) => {
      let sum = 0;
      const [x0, y0] = [pixels(c.x), pixels(c.y)];
      const [x1, y1] = [Math.min(size, x0 + pixels(c.w)), Math.min(size, y0 + pixels(c.h))];
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) {
          const p = y * size + x;
          if (counted[p]) continue;
          counted[p] = 1;
          sum += Math.max(0, map[p]);
        }
      return { ...c, share: total > 0 ? sum / total : 0 };
    })
    .sort((a, b) => b.share - a.share);
}

/** The map's mass in the BLOCK × BLOCK block at (x, y). */
function blockMass(map: Float32Array, size: number, x: number, y: number): number {
  let sum = 0;
  for (let dy = 0; dy < BLOCK; dy++) for (let dx = 0; dx < BLOCK; dx++) sum += Math.max(0, map[(y + dy) * size + x + dx]);
  return sum;
}

/**
 * The box of a stained region: around it, unless it is several cells touching (common in a field of
 * blasts): a region much longer than wide, or filling little of its box, and larger than one cell. Then a
 * box of one cell's size around where the map's mass in it lies.
 */
function cellBox(e: { x0: number; y0: number; x1: number; y1: number; area: number; mass: number; mx: number; my: number }, size: number): Omit<EvidenceBox, 'share'> {
  const largest = MAX_CELL * size;
  const [w, h] = [e.x1 - e.x0, e.y1 - e.y0];
  const touching = Math.max(w, h) > largest && (Math.max(w, h) > 1.5 * Math.min(w, h) || e.area < 0.55 * w * h);
  if (!touching || e.mass <= 0) return squareBox(e.x0, e.y0, e.x1, e.y1, size);
  const [cx, cy] = [e.mx / e.mass, e.my / e.mass];
  return squareBox(cx - largest / 2, cy - largest / 2, cx + largest / 2, cy + largest / 2, size);
}

/** A square box around pixels [x0, x1) × [y0, y1), widened by MARGIN and kept on the slide, in fractions of its side. */
function squareBox(x0: number, y0: number, x1: number, y1: number, size: number): Omit<EvidenceBox, 'share'> {
  const side = Math.min(size, Math.max(x1 - x0, y1 - y0) * (1 + 2 * MARGIN));
  const clampStart = (centre: number) => Math.min(size - side, Math.max(0, centre - side / 2));
  return { x: clampStart((x0 + x1) / 2) / size, y: clampStart((y0 + y1) / 2) / size, w: side / size, h: side / size };
}

/**
 * The 1–`most` stained cells with the most of the map (size × size values ≥ 0) on the image (size × size × 3
 * in [0, 1]), most first. Without a stained region (a pale or cut-out slide), the box around the map's peak.
 */
export function evidenceBoxes(map: Float32Array, image: Float32Array, size: number, most = 3): EvidenceBox[] {
  const total = map.reduce((s, v) => s + Math.max(0, v), 0);
  const { grid, side } = stainedGrid(image, size);
  const { label, sizes } = components(side, (p) => grid[p] === 1);
  const extent = sizes.map((n) => ({ x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity, area: n * BLOCK * BLOCK, mass: 0, mx: 0, my: 0 }));
  label.forEach((id, p) => {
    if (!id) return;
    const e = extent[id];
    const [x, y] = [(p % side) * BLOCK, Math.floor(p / side) * BLOCK];
    [e.x0, e.y0, e.x1, e.y1] = [Math.min(e.x0, x), Math.min(e.y0, y), Math.max(e.x1, x + BLOCK), Math.max(e.y1, y + BLOCK)];
    const m = blockMass(map, size, x, y);
    [e.mass, e.mx, e.my] = [e.mass + m, e.mx + m * (x + BLOCK / 2), e.my + m * (y + BLOCK / 2)];
  });
  const cells = extent
    .filter((_, id) => id > 0 && sizes[id] * BLOCK * BLOCK >= MIN_REGION * size * size)
    .map((e) => {
      const box = cellBox(e, size);
      const [x0, y0] = [Math.round(box.x * size), Math.round(box.y * size)];
      const w = Math.round(box.w * size);
      return { ...box, share: shareIn(map, size, total, x0, y0, Math.min(size, x0 + w), Math.min(size, y0 + w)) };
    })
    .sort((a, b) => b.share - a.share);
  const shown = withoutOverlap(cells, map, size, total)
    .filter((c, i) => i === 0 || c.share >= MIN_SHARE)
    .slice(0, most);
  return shown.length ? shown : [peakBox(map, size, total)];
}

/** A box of a quarter of the slide's side around the map's strongest point. */
function peakBox(map: Float32Array, size: number, total: number): EvidenceBox {
  let peak = 0;
  for (let p = 1; p < map.length; p++) if (map[p] > map[peak]) peak = p;
  const [x, y] = [peak % size, Math.floor(peak / size)];
  const half = size / 8;
  const box = squareBox(x - half, y - half, x + half, y + half, size);
  const [x0, y0, w] = [Math.round(box.x * size), Math.round(box.y * size), Math.round(box.w * size)];
  return { ...box, share: shareIn(map, size, total, x0, y0, x0 + w, y0 + w) };
}

// Augmentations against the next lab's look (issue #39): another stain, another magnification, another
// camera. Other labs image white cells at 2–3× the Taleqani magnification, often one cell a picture, with a
// different stain balance and a softer or noisier optic. Each is applied to every class alike, so that
// "looks like another lab" never says which class.
// - zoom: a crop centred on one of the image's white cells (its segmented twin's mask), 1/3 to 1/2 of the
//   side, enlarged back to the input size: a single-cell picture at 2–3×;
// - black: the cells on black (the segmented-twin and C-NMC look);
// - stain: jitter in haematoxylin–eosin–DAB optical density (Tellez et al. 2018), each stain's amount
//   scaled and shifted by up to ±amount;
// - blur: a Gaussian blur (σ up to 1.2 px) and sensor noise (σ up to 0.02) on that share of images.

/** Ruifrok & Johnston's stain vectors (rows: haematoxylin, eosin, DAB) in optical density. */
const RGB_FROM_HED = [
  [0.65, 0.7, 0.29],
  [0.07, 0.99, 0.11],
  [0.27, 0.57, 0.78],
];

function inverse3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}
const HED_FROM_RGB = inverse3(RGB_FROM_HED);

/** Stain jitter in place on one image of `pixels` RGB floats in [0,1]. */
export function stainJitter(img: Float32Array, offset: number, pixels: number, amount: number, random: () => number): void {
  if (amount <= 0) return;
  const scale = [0, 1, 2].map(() => 1 + (random() * 2 - 1) * amount);
  const shift = [0, 1, 2].map(() => (random() * 2 - 1) * amount * 0.2);
  const od = [0, 0, 0];
  const hed = [0, 0, 0];
  for (let p = 0; p < pixels; p++) {
    const i = offset + p * 3;
    for (let k = 0; k < 3; k++) od[k] = -Math.log(Math.max(img[i + k], 1 / 255));
    for (let s = 0; s < 3; s++) hed[s] = (od[0] * HED_FROM_RGB[0][s] + od[1] * HED_FROM_RGB[1][s] + od[2] * HED_FROM_RGB[2][s]) * scale[s] + shift[s];
    for (let k = 0; k < 3; k++) {
      const v = Math.exp(-(hed[0] * RGB_FROM_HED[0][k] + hed[1] * RGB_FROM_HED[1][k] + hed[2] * RGB_FROM_HED[2][k]));
      img[i + k] = v > 1 ? 1 : v;
    }
  }
}

/** A random pixel of the mask, or null when it has none. */
function cellPixel(mask: Uint8Array, random: () => number): number | null {
  let count = 0;
  for (let p = 0; p < mask.length; p++) count += mask[p];
  if (!count) return null;
  let k = Math.floor(random() * count);
  for (let p = 0; p < mask.length; p++) if (mask[p] && k-- === 0) return p;
  return null;
}

/** A square crop (side `side` px, centred on one of the mask's cells where it has any), enlarged bilinearly to size × size. */
export function zoomOnCell(src: Uint8Array, mask: Uint8Array | null, size: number, random: () => number): Uint8Array {
  const side = size * (1 / 3 + random() / 6);
  const at = mask ? cellPixel(mask, random) : null;
  const cy = at === null ? size / 2 + (random() - 0.5) * (size - side) : Math.floor(at / size);
  const cx = at === null ? size / 2 + (random() - 0.5) * (size - side) : at % size;
  const top = Math.min(Math.max(cy - side / 2, 0), size - side);
  const left = Math.min(Math.max(cx - side / 2, 0), size - side);
  const out = new Uint8Array(size * size * 3);
  const step = side / size;
  for (let y = 0; y < size; y++) {
    const sy = Math.min(top + (y + 0.5) * step - 0.5, size - 1);
    const y0 = Math.max(0, Math.floor(sy));
    const y1 = Math.min(size - 1, y0 + 1);
    const fy = Math.max(0, sy - y0);
    for (let x = 0; x < size; x++) {
      const sx = Math.min(left + (x + 0.5) * step - 0.5, size - 1);
      const x0 = Math.max(0, Math.floor(sx));
      const x1 = Math.min(size - 1, x0 + 1);
      const fx = Math.max(0, sx - x0);
      for (let c = 0; c < 3; c++) {
        const top2 = src[(y0 * size + x0) * 3 + c] * (1 - fx) + src[(y0 * size + x1) * 3 + c] * fx;
        const bottom = src[(y1 * size + x0) * 3 + c] * (1 - fx) + src[(y1 * size + x1) * 3 + c] * fx;
        out[(y * size + x) * 3 + c] = Math.round(top2 * (1 - fy) + bottom * fy);
      }
    }
  }
  return out;
}

/** The image's cells on black. */
export function cellsOnBlack(src: Uint8Array, mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let p = 0; p < mask.length; p++) if (mask[p]) for (let c = 0; c < 3; c++) out[p * 3 + c] = src[p * 3 + c];
  return out;
}

/** A separable Gaussian blur of random σ (0.3–1.2 px) and Gaussian noise of random σ (up to 0.02), in place. */
export function blurAndNoise(img: Float32Array, offset: number, size: number, random: () => number): void {
  const sigma = 0.3 + random() * 0.9;
  const r = Math.ceil(2 * sigma);
  const kernel = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = kernel.reduce((a, b) => a + b, 0);
  const k = kernel.map((v) => v / sum);
  const tmp = new Float32Array(size * size * 3);
  const at = (y: number, x: number, c: number) => (Math.min(size - 1, Math.max(0, y)) * size + Math.min(size - 1, Math.max(0, x))) * 3 + c;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let d = -r; d <= r; d++) v += k[d + r] * img[offset + at(y, x + d, c)];
        tmp[(y * size + x) * 3 + c] = v;
      }
  const noise = random() * 0.02;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let d = -r; d <= r; d++) v += k[d + r] * tmp[at(y + d, x, c)];
        // Box–Muller from two uniforms.
        v += noise * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        img[offset + (y * size + x) * 3 + c] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
}

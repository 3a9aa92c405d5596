// SLIC superpixels (Achanta et al. 2012) for LIME: k-means in CIELAB + position over a grid of seeds,
// each seed searching a 2S × 2S window, then a pass that makes every superpixel one connected region.
// Written here because no maintained JavaScript implementation exists; tested against known layouts.

function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** RGB in [0,1] → CIELAB (D65). */
export function rgbToLab(rgb: Float32Array, pixels: number): Float32Array {
  const lab = new Float32Array(pixels * 3);
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  for (let p = 0; p < pixels; p++) {
    const r = srgbToLinear(rgb[p * 3]);
    const g = srgbToLinear(rgb[p * 3 + 1]);
    const b = srgbToLinear(rgb[p * 3 + 2]);
    const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
    const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
    const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
    const fx = f(x);
    const fy = f(y);
    const fz = f(z);
    lab[p * 3] = 116 * fy - 16;
    lab[p * 3 + 1] = 500 * (fx - fy);
    lab[p * 3 + 2] = 200 * (fy - fz);
  }
  return lab;
}

export interface Superpixels {
  labels: Int32Array;
  count: number;
}

export function slic(rgb: Float32Array, width: number, height: number, segments: number, compactness = 10, iterations = 10): Superpixels {
  const n = width * height;
  const lab = rgbToLab(rgb, n);
  const step = Math.max(1, Math.sqrt(n / Math.max(1, segments)));
  // Seeds on a grid, each moved to the lowest colour gradient in its 3 × 3 neighbourhood.
  const centres: number[][] = [];
  const grad = (x: number, y: number) => {
    const at = (xx: number, yy: number) => (Math.min(height - 1, Math.max(0, yy)) * width + Math.min(width - 1, Math.max(0, xx))) * 3;
    let s = 0;
    for (let c = 0; c < 3; c++) s += (lab[at(x + 1, y) + c] - lab[at(x - 1, y) + c]) ** 2 + (lab[at(x, y + 1) + c] - lab[at(x, y - 1) + c]) ** 2;
    return s;
  };
  for (let y = step / 2; y < height; y += step) {
    for (let x = step / 2; x < width; x += step) {
      let bx = Math.floor(x);
      let by = Math.floor(y);
      let best = Infinity;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = Math.min(width - 1, Math.max(0, Math.floor(x) + dx));
          const yy = Math.min(height - 1, Math.max(0, Math.floor(y) + dy));
          const g = grad(xx, yy);
          if (g < best) {
            best = g;
            bx = xx;
            by = yy;
          }
        }
      }
      const p = (by * width + bx) * 3;
      centres.push([lab[p], lab[p + 1], lab[p + 2], bx, by]);
    }
  }
  const labels = new Int32Array(n).fill(-1);
  const dist = new Float64Array(n);
  const m2 = (compactness / step) ** 2;
  const win = Math.ceil(step);
  for (let it = 0; it < iterations; it++) {
    dist.fill(Infinity);
    centres.forEach(([l, a, b, cx, cy], k) => {
      for (let y = Math.max(0, Math.floor(cy - win)); y < Math.min(height, Math.ceil(cy + win)); y++) {
        for (let x = Math.max(0, Math.floor(cx - win)); x < Math.min(width, Math.ceil(cx + win)); x++) {
          const p = y * width + x;
          const d = (lab[p * 3] - l) ** 2 + (lab[p * 3 + 1] - a) ** 2 + (lab[p * 3 + 2] - b) ** 2 + m2 * ((x - cx) ** 2 + (y - cy) ** 2);
          if (d < dist[p]) {
            dist[p] = d;
            labels[p] = k;
          }
        }
      }
    });
    const sums = centres.map(() => [0, 0, 0, 0, 0, 0]);
    for (let p = 0; p < n; p++) {
      const k = labels[p];
      if (k < 0) continue;
      const s = sums[k];
      s[0] += lab[p * 3];
      s[1] += lab[p * 3 + 1];
      s[2] += lab[p * 3 + 2];
      s[3] += p % width;
      s[4] += Math.floor(p / width);
      s[5]++;
    }
    sums.forEach((s, k) => {
      if (s[5]) centres[k] = [s[0] / s[5], s[1] / s[5], s[2] / s[5], s[3] / s[5], s[4] / s[5]];
    });
  }
  return enforceConnectivity(labels, width, height, Math.max(1, Math.floor(n / centres.length / 4)));
}

/** Relabels connected components 0…count−1; components smaller than minSize join a neighbour. */
function enforceConnectivity(labels: Int32Array, width: number, height: number, minSize: number): Superpixels {
  const n = width * height;
  const out = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const members: number[] = [];
  let count = 0;
  for (let start = 0; start < n; start++) {
    if (out[start] >= 0) continue;
    const original = labels[start];
    // The label of an already numbered neighbour, for a region too small to stand alone.
    let adjacent = -1;
    for (const q of [start - 1, start - width]) if (q >= 0 && out[q] >= 0 && (q !== start - 1 || start % width !== 0)) adjacent = out[q];
    members.length = 0;
    stack.push(start);
    out[start] = count;
    while (stack.length) {
      const p = stack.pop()!;
      members.push(p);
      const x = p % width;
      const neighbours = [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width];
      for (const q of neighbours) {
        if (q < 0 || q >= n || out[q] >= 0 || labels[q] !== original) continue;
        out[q] = count;
        stack.push(q);
      }
    }
    if (members.length < minSize && adjacent >= 0) {
      for (const p of members) out[p] = adjacent;
    } else {
      count++;
    }
  }
  return { labels: out, count };
}

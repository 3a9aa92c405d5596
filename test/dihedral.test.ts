import { describe, expect, it } from 'vitest';
import { dihedral, dihedralSource } from '../src/engine/train/augment.js';

describe('dihedral views', () => {
  // dihedral walks the source by steps; dihedralSource states each transform pixel by pixel.
  it('writes each of the 8 transforms as dihedralSource names its pixels, scaled, at the offset', () => {
    for (const size of [1, 2, 5]) {
      const src = Float32Array.from({ length: size * size * 3 }, (_, i) => i + 1);
      for (let t = 0; t < 8; t++) {
        const dst = new Float32Array(4 + size * size * 3);
        dihedral(src, dst, 4, size, t, 0.5);
        const expected = new Float32Array(4 + size * size * 3);
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) {
            const [sy, sx] = dihedralSource(t, y, x, size);
            for (let c = 0; c < 3; c++) expected[4 + (y * size + x) * 3 + c] = src[(sy * size + sx) * 3 + c] * 0.5;
          }
        }
        expect(Array.from(dst), `size ${size}, transform ${t}`).toEqual(Array.from(expected));
      }
    }
  });

  it('gives 8 different views of an image without symmetry', () => {
    const size = 3;
    const src = Float32Array.from({ length: size * size * 3 }, (_, i) => i);
    const views = new Set<string>();
    for (let t = 0; t < 8; t++) {
      const dst = new Float32Array(size * size * 3);
      dihedral(src, dst, 0, size, t);
      views.add(dst.join(','));
    }
    expect(views.size).toBe(8);
  });
});

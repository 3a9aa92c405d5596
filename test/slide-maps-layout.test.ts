import { describe, expect, it } from 'vitest';
import { slideMapsLayout } from '../src/screens/slide-maps-layout.js';

const MAPS = ['image', 'layercam14', 'layercam28'];
const large = { layout: 'large' as const, enlarged: 0 };

describe('the slide view layout', () => {
  it('at 120 × 36: the default map large (≥ 300 px at 7 × 14 px cells) and the other two as thumbnails beside it', () => {
    const l = slideMapsLayout(MAPS, large, 120, 36);
    if (l.kind !== 'large') throw new Error('expected the large layout');
    expect(l.large).toBe('layercam14');
    expect(l.thumbnails).toEqual(['image', 'layercam28']);
    expect(Math.min(l.largeCols * 7, l.largeRows * 14)).toBeGreaterThanOrEqual(300);
    // Everything fits beside the 40-column text: the pictures and their margins.
    expect(l.width).toBeLessThanOrEqual(120 - 42);
    expect(l.thumbRows * 2).toBeLessThanOrEqual(l.largeRows);
  });

  it('Tab makes the next map the large one, around to the plain image', () => {
    const at = (enlarged: number) => {
      const l = slideMapsLayout(MAPS, { layout: 'large', enlarged }, 120, 36);
      return l.kind === 'large' ? [l.large, l.position] : null;
    };
    expect([at(0), at(1), at(2), at(3)]).toEqual([
      ['layercam14', 1],
      ['layercam28', 2],
      ['image', 0],
      ['layercam14', 1],
    ]);
  });

  it('follows the terminal: larger with it, and without thumbnails where there is no room for them', () => {
    const small = slideMapsLayout(MAPS, large, 80, 24);
    const big = slideMapsLayout(MAPS, large, 200, 60);
    if (small.kind !== 'large' || big.kind !== 'large') throw new Error('expected the large layout');
    expect(big.largeCols).toBeGreaterThan(small.largeCols);
    expect(small.width).toBeLessThanOrEqual(80 - 42);
    const narrow = slideMapsLayout(MAPS, large, 70, 24);
    expect(narrow.kind === 'large' && narrow.thumbnails).toEqual([]);
  });

  it('v puts the maps in a row while each gets 12 columns, else keeps one large', () => {
    expect(slideMapsLayout(MAPS, { layout: 'side-by-side', enlarged: 0 }, 120, 36)).toMatchObject({ kind: 'side-by-side', maps: MAPS });
    expect(slideMapsLayout(MAPS, { layout: 'side-by-side', enlarged: 0 }, 70, 36).kind).toBe('large');
  });
});

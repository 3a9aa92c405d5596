// Lines of items cut by whole items (issue #36: nothing cut mid-word at 80 columns and up).
import { describe, expect, it } from 'vitest';
import { fitItems } from '../src/core/fit-items.js';

const hints = ['↑ k up', '↓ j down', 'Enter open', 'o sort', 'f filter state', 'l filter label'];

describe('items fitted to a width', () => {
  it('are all there when they fit', () => {
    expect(fitItems(hints, 200, ['? keys', 'q quit'])).toBe('↑ k up · ↓ j down · Enter open · o sort · f filter state · l filter label · ? keys · q quit');
  });

  it('are cut by whole items, with … for the rest and the last ones kept', () => {
    const line = fitItems(hints, 61, ['? keys', 'q quit']);
    expect(line).toBe('↑ k up · ↓ j down · Enter open · o sort · … · ? keys · q quit');
    expect(fitItems(hints, 60, ['? keys', 'q quit'])).toBe('↑ k up · ↓ j down · Enter open · … · ? keys · q quit');
    for (let width = 30; width <= 120; width++) {
      const fitted = fitItems(hints, width, ['? keys', 'q quit']);
      expect([...fitted].length, `width ${width}`).toBeLessThanOrEqual(width);
      for (const part of fitted.split(' · ')) expect([...hints, '…', '? keys', 'q quit']).toContain(part);
    }
  });

  it('keeps the last items even when nothing else fits', () => {
    expect(fitItems(hints, 10, ['? keys'])).toBe('… · ? keys');
  });
});

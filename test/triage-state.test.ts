import { describe, expect, it } from 'vitest';
import { afterDecision } from '../src/app/decisions.js';
import { initialTriage, selectedIndex, triageReducer, type TriageState } from '../src/state/triage.js';

const run = (s: TriageState, ...actions: Parameters<typeof triageReducer>[1][]) => actions.reduce(triageReducer, s);

describe('the selection follows the slide, not the row', () => {
  it('moves by rows of the list as shown and remembers the slide', () => {
    const s = run(initialTriage, { type: 'move', by: 1, order: ['a', 'b', 'c'] });
    expect(s).toMatchObject({ selected: 1, selectedSha: 'b' });
    expect(run(s, { type: 'move', by: 5, order: ['a', 'b', 'c'] })).toMatchObject({ selected: 2, selectedSha: 'c' });
    expect(run(s, { type: 'move', by: -5, order: ['a', 'b', 'c'] })).toMatchObject({ selected: 0, selectedSha: 'a' });
  });

  it('finds the slide where a re-sort put it, and moves from there', () => {
    const s = run(initialTriage, { type: 'move', by: 1, order: ['a', 'b', 'c'] });
    // A new slide sorted in above: b is now the third row.
    expect(selectedIndex(s, ['n', 'a', 'b', 'c'])).toBe(2);
    expect(run(s, { type: 'move', by: 1, order: ['n', 'a', 'b', 'c'] })).toMatchObject({ selected: 3, selectedSha: 'c' });
  });

  it('takes the row in its place when the slide left the list, clamped to the list', () => {
    const s = run(initialTriage, { type: 'move', by: 1, order: ['a', 'b', 'c'] });
    expect(selectedIndex(s, ['a', 'c'])).toBe(1);
    expect(selectedIndex(s, ['a'])).toBe(0);
    expect(selectedIndex(s, [])).toBe(0);
    expect(run(s, { type: 'pin', sha: 'c', index: 1 })).toMatchObject({ selected: 1, selectedSha: 'c' });
  });

  it('starts again from the top on a new sort or filter', () => {
    const s = run(initialTriage, { type: 'move', by: 2, order: ['a', 'b', 'c'] }, { type: 'sort' });
    expect(s).toMatchObject({ selected: 0, selectedSha: null });
  });
});

describe('a note belongs to its slide', () => {
  it('is kept with the slide it was written on, and cleared when used or dropped', () => {
    let s = run(initialTriage, { type: 'note-start', sha: 'b' }, { type: 'note-type', input: 'pale', backspace: false }, { type: 'note-end', keep: true });
    expect(s).toMatchObject({ note: 'pale', noteSha: 'b', noteMode: false });
    s = run(s, { type: 'move', by: 1, order: ['a', 'b', 'c'] });
    expect(s).toMatchObject({ note: 'pale', noteSha: 'b' });
    expect(run(s, { type: 'note-used' })).toMatchObject({ note: '', noteSha: null });
    expect(run(s, { type: 'note-start', sha: 'b' }, { type: 'note-end', keep: false })).toMatchObject({ note: '', noteSha: null });
  });
});

describe('where a decision moves the selection', () => {
  it("in the to-review list the next slide takes the decided one's row; at the end, the previous one", () => {
    expect(afterDecision(['a', 'b', 'c'], 1, true)).toEqual({ sha: 'c', index: 1 });
    expect(afterDecision(['a', 'b', 'c'], 2, true)).toEqual({ sha: 'b', index: 1 });
    expect(afterDecision(['a'], 0, true)).toBeNull();
  });

  it('in lists that keep the decided slide, the next row, staying on the last', () => {
    expect(afterDecision(['a', 'b', 'c'], 1, false)).toEqual({ sha: 'c', index: 2 });
    expect(afterDecision(['a', 'b', 'c'], 2, false)).toEqual({ sha: 'c', index: 2 });
  });
});

describe('a selected slide that left the list', () => {
  it('moving on goes to the slide that took its row, moving back to the one before', () => {
    const s = run(initialTriage, { type: 'move', by: 1, order: ['a', 'b', 'c'] });
    expect(run(s, { type: 'move', by: 1, order: ['a', 'c'] })).toMatchObject({ selected: 1, selectedSha: 'c' });
    expect(run(s, { type: 'move', by: -1, order: ['a', 'c'] })).toMatchObject({ selected: 0, selectedSha: 'a' });
  });
});

describe('undo of the decision just made', () => {
  it('is offered until the technician moves on', () => {
    const s = run(initialTriage, { type: 'decided', sha: 'a', index: 0 });
    expect(s.lastDecided).toEqual({ sha: 'a', index: 0 });
    expect(run(s, { type: 'move', by: 1, order: ['b', 'c'] }).lastDecided).toBeNull();
  });
});

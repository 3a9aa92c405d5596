// A window of the queue, as steps (see run.ts) that both stores answer: the keys around a slide or a
// position, where the window starts in the whole queue, and how many slides the queue holds, from the
// tallies. Nothing here reads more than the window and, around a slide far down the list, the count of
// the keys before it (an index range, not a sort).
import type { Arm, TallyAsk } from '../queue-plan.js';
import type { Steps } from './run.js';

export type WindowQuery =
  /** The tally rows of a kind (for 'rank', of one model): key and count. */
  | { q: 'tallies'; kind: 'slides' | 'rank'; model: string | null }
  | { q: 'keys'; arm: Arm; offset: number; limit: number }
  /** The slide's sort key in the arm, or null when the arm does not list it. */
  | { q: 'keyOf'; arm: Arm; sha256: string }
  | { q: 'around'; arm: Arm; key: unknown[]; dir: 'before' | 'from'; limit: number }
  | { q: 'countBefore'; arm: Arm; key: unknown[] };

export interface QueueWindow {
  /** The keys of the window, in the queue's order. */
  keys: string[];
  /** The position of keys[0] in the whole queue. */
  offset: number;
  /** How many slides the queue lists. */
  total: number;
}

type Tally = { key: string; n: number };

function* ask<T>(query: WindowQuery): Steps<WindowQuery, T> {
  return (yield query) as T;
}

const SEP = '\u001f';
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Rank rows of a model in the folder, by labelled and label: keys are `model␟{gone}{labelled}␟label`. */
function rankCount(rows: Tally[], model: string, labelled: boolean | null, label: string | null): number {
  return sum(
    rows
      .filter((r) => {
        const [m, flags, l] = r.key.split(SEP);
        return m === model && flags[0] === '0' && (labelled === null || flags[1] === (labelled ? '1' : '0')) && (label === null || l === label);
      })
      .map((r) => r.n),
  );
}

function* armSize(size: TallyAsk): Steps<WindowQuery, number> {
  if (size.kind === 'rank') return rankCount(yield* ask<Tally[]>({ q: 'tallies', kind: 'rank', model: size.model }), size.model, size.labelled, size.label);
  // Slides tallies: keys `{gone}:{labelled}`.
  const slides = yield* ask<Tally[]>({ q: 'tallies', kind: 'slides', model: null });
  const inFolder = sum(slides.filter((r) => r.key[0] === '0' && (size.labelled === null || r.key[2] === (size.labelled ? '1' : '0'))).map((r) => r.n));
  if (!size.lessRanksOf) return inFolder;
  return inFolder - rankCount(yield* ask<Tally[]>({ q: 'tallies', kind: 'rank', model: size.lessRanksOf }), size.lessRanksOf, size.labelled, null);
}

/** The window of `size` keys around the slide `around.sha256` when the queue lists it, else around the position `around.index`. */
export function* queueWindow(arms: Arm[], around: { sha256: string | null; index: number }, size: number): Steps<WindowQuery, QueueWindow> {
  const sizes: number[] = [];
  for (const arm of arms) sizes.push(yield* armSize(arm.size));
  const starts = sizes.map((_, i) => sum(sizes.slice(0, i)));
  const total = sum(sizes);
  const lead = Math.floor(size / 3);
  for (const [i, arm] of (around.sha256 ? arms : []).entries()) {
    const key = yield* ask<unknown[] | null>({ q: 'keyOf', arm, sha256: around.sha256! });
    if (!key) continue;
    const position = yield* ask<number>({ q: 'countBefore', arm, key });
    const before = (yield* ask<string[]>({ q: 'around', arm, key, dir: 'before', limit: lead })).reverse();
    const keys = [...before, ...(yield* ask<string[]>({ q: 'around', arm, key, dir: 'from', limit: size - before.length }))];
    for (let j = i + 1; j < arms.length && keys.length < size; j++) keys.push(...(yield* ask<string[]>({ q: 'keys', arm: arms[j], offset: 0, limit: size - keys.length })));
    return { keys, offset: starts[i] + position - before.length, total };
  }
  const start = Math.max(0, Math.min(around.index - lead, total - size));
  const keys: string[] = [];
  for (const [i, arm] of arms.entries()) {
    const [from, to] = [Math.max(start, starts[i]), Math.min(start + size, starts[i] + sizes[i])];
    if (from < to) keys.push(...(yield* ask<string[]>({ q: 'keys', arm, offset: from - starts[i], limit: to - from })));
  }
  return { keys, offset: start, total };
}

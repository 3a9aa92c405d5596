// A window of the queue, as steps (see run.ts) that both stores answer: the keys around a slide or a
// position, where the window starts in the whole queue, and how many slides the queue holds, from the
// tallies. Nothing here reads more than the window and, around a slide far down the list, the count of
// the keys before it (an index range, not a sort).
import { planQueue, type Arm, type TallyAsk } from '../queue-plan.js';
import type { QueueQuery } from '../types.js';
import type { Steps } from './run.js';

export type WindowQuery =
  /** The tally rows of a kind (for 'rank', of one model, or of every model when null): key and count. */
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

/**
 * The arms of a query. Without a model in use (the app before its model has loaded), the model that ranks
 * most of the slides in the folder stands in, so that the list does not change order when it loads.
 */
export function* queueArms(q: QueueQuery): Steps<WindowQuery, Arm[]> {
  if (q.modelId !== null) return planQueue(q);
  const byModel = new Map<string, number>();
  for (const r of yield* ask<Tally[]>({ q: 'tallies', kind: 'rank', model: null })) {
    const [model, flags] = r.key.split(SEP);
    if (flags[0] === '0') byModel.set(model, (byModel.get(model) ?? 0) + Number(r.n));
  }
  const busiest = [...byModel].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  return planQueue({ ...q, modelId: busiest && busiest[1] > 0 ? busiest[0] : null });
}

/** Every key of the queue, in its order (tools and tests). */
export function* queueKeys(q: QueueQuery): Steps<WindowQuery, string[]> {
  const keys: string[] = [];
  for (const arm of yield* queueArms(q)) keys.push(...(yield* ask<string[]>({ q: 'keys', arm, offset: 0, limit: Infinity })));
  return keys;
}

/** The window of `size` keys around the slide `around.sha256` when the queue lists it, else around the position `around.index`. */
export function* queueWindow(q: QueueQuery, around: { sha256: string | null; index: number }, size: number): Steps<WindowQuery, QueueWindow> {
  const arms = yield* queueArms(q);
  const sizes: number[] = [];
  // Never below 0, even where the tallies had drifted (audit verify names that).
  for (const arm of arms) sizes.push(Math.max(0, yield* armSize(arm.size)));
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

/**
 * The slides to review that the model has not ranked yet, in arrival order: what the predictor classifies
 * next. The tallies say first whether there are any, so that a store with none left costs a few rows, not a
 * walk of its slides. (Labelled slides keep the prediction their decision was made on, or none.)
 */
export function* unrankedToReview(modelId: string, limit: number): Steps<WindowQuery, string[]> {
  const arm = planQueue({ modelId, sort: 'uncertainty', state: 'to review', label: null }).find((a) => a.table === 'slides')!;
  if ((yield* armSize(arm.size)) <= 0) return [];
  return yield* ask<string[]>({ q: 'keys', arm, offset: 0, limit });
}

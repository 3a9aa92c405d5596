// The queue at any size (issue #37), for both stores: every window the app reads is the slice of the queue
// a plain sort of the store's records gives, the totals and counts match a count of the records, and the
// rank rows and tallies kept by the writes match the tables after predictions, decisions, undos and files
// that leave the folder.
import { afterAll, describe, expect, it } from 'vitest';
import type { Prediction, StoreData } from '../src/store/schema.js';
import type { QueueQuery, SlideStore } from '../src/store/types.js';
import { rng, shuffle } from '../src/core/random.js';
import { shaOf, storeKinds } from './support/store.js';

const { kinds, stop } = await storeKinds();
afterAll(() => stop());

const LABELS = ['Benign', 'Early', 'Pre', 'Pro'];
const N = 240;
const pathOf = (i: number) => `day-${Math.floor(i / 50)}/s${String(i).padStart(4, '0')}.png`;

function prediction(modelId: string, r: () => number, unusual: boolean): Prediction {
  const top = 0.3 + 0.7 * r();
  const label = LABELS[Math.floor(r() * 4)];
  const probabilities = Object.fromEntries(LABELS.map((l) => [l, l === label ? top : (1 - top) / 3]));
  return { modelId, label, probabilities, at: '', explanations: {}, ood: { distance: 0, threshold: 1, unusual } };
}

/** 240 slides: most predicted by m@1 (some twice, a few unusual), some by m@0 only, some never; a quarter labelled, some undone, 12 gone. */
async function populate(store: SlideStore): Promise<void> {
  const r = rng(7);
  // Arrival times with ties, so that the path and the sha256 decide.
  await store.importRecords({
    slides: Array.from({ length: N }, (_, i) => ({ sha256: shaOf(i), path: pathOf(i), width: 1, height: 1, addedAt: `2026-12-0${1 + (i % 5)}T10:00:00.000Z` })),
    files: Array.from({ length: 12 }, (_, k) => ({
      path: pathOf(k * 20),
      state: 'gone' as const,
      sha256: shaOf(k * 20),
      duplicateOf: null,
      code: null,
      reason: null,
      size: 1,
      mtimeMs: 1,
      seenAt: '',
    })),
  });
  for (let i = 0; i < N; i++) {
    if (i % 11 === 3) continue; // never predicted
    if (i % 13 === 5) await store.addPrediction(shaOf(i), prediction('m@0', r, false));
    else await store.addPrediction(shaOf(i), prediction('m@1', r, i % 17 === 0));
    if (i % 7 === 0) await store.addPrediction(shaOf(i), prediction('m@1', r, false)); // the later one ranks
  }
  for (const i of shuffle([...Array(N).keys()], r).slice(0, 60))
    await store.decide({ sha256: shaOf(i), action: 'correct', label: LABELS[i % 4], modelId: 'm@1', predicted: null, probabilities: null });
  for (let i = 0; i < N; i += 9) await store.undo(shaOf(i));
}

/** The queue by a plain sort of the records: the model's ranked slides, then the ones it has not ranked, in arrival order. */
function reference(data: StoreData, q: QueueQuery): string[] {
  const labelled = (sha: string) => data.decisions[sha] !== undefined && currentLabel(data, sha) !== null;
  const slides = Object.values(data.slides).filter((s) => !isGone(data, s.sha256) && (q.state === 'all' || labelled(s.sha256) === (q.state === 'labelled')));
  const latest = (sha: string) => (data.predictions[sha] ?? []).filter((p) => p.modelId === q.modelId).at(-1);
  const arrival = (a: { addedAt: string; path: string; sha256: string }, b: typeof a) => a.addedAt.localeCompare(b.addedAt) || cmp(a.path, b.path) || cmp(a.sha256, b.sha256);
  const ranked = slides.filter((s) => latest(s.sha256) && (q.label === null || latest(s.sha256)!.label === q.label));
  const margins = new Map(
    ranked.map((s) => {
      const ps = Object.values(latest(s.sha256)!.probabilities).sort((a, b) => b - a);
      return [s.sha256, ps[0] - ps[1]];
    }),
  );
  const margin = (sha: string) => margins.get(sha)!;
  const calm = (sha: string) => (latest(sha)!.ood?.unusual ? 0 : 1);
  ranked.sort((a, b) => (q.sort === 'arrival' ? 0 : calm(a.sha256) - calm(b.sha256) || margin(a.sha256) - margin(b.sha256)) || arrival(a, b));
  const rest = q.label === null ? slides.filter((s) => !latest(s.sha256)).sort(arrival) : [];
  if (q.sort === 'arrival' && q.label === null) return slides.sort(arrival).map((s) => s.sha256);
  return [...ranked, ...rest].map((s) => s.sha256);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
// The gone slides of a dump, worked out once per dump (the large import's has 60,000 files).
const goneOf = new WeakMap<StoreData, Set<string>>();
const isGone = (data: StoreData, sha: string) => {
  if (!goneOf.has(data)) goneOf.set(data, new Set(Object.values(data.files).flatMap((f) => (f.state === 'gone' && f.sha256 ? [f.sha256] : []))));
  return goneOf.get(data)!.has(sha);
};
const currentLabel = (data: StoreData, sha: string) => data.decisions[sha]?.at(-1)?.label ?? null;

const QUERIES: QueueQuery[] = (['uncertainty', 'arrival'] as const).flatMap((sort) =>
  (['to review', 'labelled', 'all'] as const).flatMap((state) => [null, 'Pre'].map((label) => ({ modelId: 'm@1', sort, state, label }))),
);

describe.each(kinds)('$name queue', (kind) => {
  it('every window is the slice of the sorted records around the slide or the position asked for; totals and counts match', async () => {
    const store = await kind.open(await kind.fresh());
    await populate(store);
    const data = await store.dump();
    const r = rng(11);
    for (const q of QUERIES) {
      const all = reference(data, q);
      expect(await store.queueOrder(q), JSON.stringify(q)).toEqual(all);
      for (const sha of [...shuffle(all, r).slice(0, 4), all[0], all.at(-1), shaOf(N + 1)].filter(Boolean)) {
        const w = await store.queueWindow(q, { sha256: sha!, index: 5 }, 24);
        expect(w.total).toBe(all.length);
        expect(w.keys, `${JSON.stringify(q)} around ${all.indexOf(sha!)}`).toEqual(all.slice(w.offset, w.offset + w.keys.length));
        if (all.includes(sha!)) expect(w.keys).toContain(sha);
        else expect(w.offset).toBe(0); // not listed: by position (5, within the first third)
      }
      for (const index of [0, 30, all.length - 1, all.length + 50]) {
        const w = await store.queueWindow(q, { sha256: null, index }, 24);
        expect(w.keys).toEqual(all.slice(w.offset, w.offset + 24));
        expect(w.keys.length).toBe(Math.min(24, all.length));
        if (index < all.length) expect(w.keys).toContain(all[index]);
      }
    }
    // Before the app's model has loaded: the model that ranks most slides in the folder (m@1) stands in.
    const review: QueueQuery = { modelId: null, sort: 'uncertainty', state: 'to review', label: null };
    expect(await store.queueOrder(review)).toEqual(reference(data, { ...review, modelId: 'm@1' }));
    const summary = await store.summary();
    const labelled = Object.keys(data.slides).filter((s) => currentLabel(data, s) !== null);
    expect(summary).toMatchObject({ slides: N - 12, goneSlides: 12, labelled: labelled.filter((s) => !isGone(data, s)).length });
    expect(summary.files).toMatchObject({ gone: 12 });
    // A re-scoring's progress: of the slides to review, those each model has scored (its latest prediction).
    const toReview = Object.keys(data.slides).filter((s) => !isGone(data, s) && currentLabel(data, s) === null);
    for (const model of ['m@0', 'm@1']) {
      const scored = toReview.filter((s) => (data.predictions[s] ?? []).some((p) => p.modelId === model)).length;
      expect(scored, model).toBeGreaterThan(0);
      expect(summary.toReviewScoredBy[model], model).toBe(scored);
    }
    expect(await store.queueCheck()).toEqual([]);
    await store.close();
  }, 120_000);

  it('finds rank rows and tallies that no longer match the tables', async () => {
    const location = await kind.fresh();
    const store = await kind.open(location);
    await populate(store);
    await store.close();
    await kind.exec(location, "UPDATE tallies SET n = n + 3 WHERE kind = 'files' AND key = 'gone'");
    await kind.exec(location, `DELETE FROM ranks WHERE sha256 = '${shaOf(1)}'`);
    const reopened = await kind.open(location);
    const problems = await reopened.queueCheck();
    expect(problems).toContain('tally files gone: kept 15, counted 12');
    expect(problems.some((p) => /1 rank row\(s\) missing or out of date/.test(p))).toBe(true);
    await reopened.close();
  });

  it('a large import (60,000 slides, files and predictions, as `bench:store` and migrations make them) leaves the sort indexes as they were and the queue right', async () => {
    const location = await kind.fresh();
    const store = await kind.open(location);
    const indexSql =
      kind.name === 'SQLite'
        ? "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
        : 'SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname';
    const before = await kind.peek(location, indexSql);
    const n = 60_000;
    const r = rng(5);
    const at = '2026-12-07T10:00:00.000Z';
    await store.importRecords({
      slides: Array.from({ length: n }, (_, i) => ({ sha256: shaOf(i), path: pathOf(i), width: 1, height: 1, addedAt: `2026-12-0${1 + (i % 5)}T10:00:00.000Z` })),
      files: Array.from({ length: n }, (_, i) => ({ path: pathOf(i), state: 'queued' as const, sha256: shaOf(i), duplicateOf: null, code: null, reason: null, size: 1, mtimeMs: 1, seenAt: at })),
      predictions: Array.from({ length: n - 7 }, (_, i) => ({ sha256: shaOf(i), prediction: prediction('m@1', r, i % 97 === 0) })),
    });
    expect(await kind.peek(location, indexSql)).toEqual(before);
    expect(await store.queueCheck()).toEqual([]);
    const data = await store.dump();
    for (const q of [QUERIES[0], QUERIES[7]]) {
      const all = reference(data, q);
      const middle = all[Math.floor(all.length / 2)];
      const w = await store.queueWindow(q, { sha256: middle, index: 0 }, 24);
      expect(w.total).toBe(all.length);
      expect(w.keys, JSON.stringify(q)).toEqual(all.slice(w.offset, w.offset + w.keys.length));
      expect(w.keys).toContain(middle);
    }
    expect((await store.summary()).toReviewScoredBy['m@1']).toBe(n - 7);
    await store.close();
  }, 120_000);
});

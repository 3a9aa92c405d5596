// The queue at a million slides (issue #37), the same for both stores: which index each sort and filter
// reads, as "arms" taken one after the other. With a model in use, the slides it has ranked come first
// (from the rank rows: unusual first, then the smallest margin), then the slides it has not ranked yet, in
// arrival order; without one, arrival order. A window of keys is read by position (OFFSET on the index)
// or around a slide (keyset: the rows before and after its sort key), never by sorting or counting the store.
import type { QueueQuery } from './types.js';

/** Writes a value as a query parameter and answers its placeholder (`?` in SQLite, `$n` in PostgreSQL). */
export type Param = (value: unknown) => string;

export interface Dialect {
  /** The literal of a boolean column's value: 0/1 in SQLite, FALSE/TRUE in PostgreSQL. */
  bool(b: boolean): string;
}

export interface Arm {
  /** The table read, aliased `t`. */
  table: 'ranks' | 'slides';
  /** Conditions on `t`, with their parameters written. */
  where(p: Param, d: Dialect): string[];
  /** The sort columns, the last of them unique (sha256). */
  order: readonly string[];
  /** The tallies that sum to this arm's size (see Tallies). */
  size: TallyAsk;
}

/** What an arm's size is, in tallies: rank rows of a model (and label), or slides, less an arm before it. */
export type TallyAsk = { kind: 'rank'; model: string; labelled: boolean | null; label: string | null } | { kind: 'slides'; labelled: boolean | null; lessRanksOf: string | null };

const RANK_ORDER = ['calm', 'margin', 'added_at', 'path', 'sha256'] as const;
const ARRIVAL = ['added_at', 'path', 'sha256'] as const;

/** The state filter as a value of `labelled`: null for all. */
export function labelledOf(state: QueueQuery['state']): boolean | null {
  return state === 'to review' ? false : state === 'labelled' ? true : null;
}

/** The arms of a query, in the order the queue lists them. */
export function planQueue(q: QueueQuery): Arm[] {
  const labelled = labelledOf(q.state);
  const model = q.modelId;
  const slidesArm = (unranked: string | null): Arm => ({
    table: 'slides',
    where: (p, d) => [
      `t.gone = ${d.bool(false)}`,
      ...(labelled === null ? [] : [`(t.label IS NOT NULL) = ${d.bool(labelled)}`]),
      ...(unranked ? [`NOT EXISTS (SELECT 1 FROM ranks r WHERE r.sha256 = t.sha256 AND r.model_id = ${p(unranked)})`] : []),
    ],
    order: ARRIVAL,
    size: { kind: 'slides', labelled, lessRanksOf: unranked },
  });
  if (model === null) return q.label === null ? [slidesArm(null)] : [];
  if (q.label === null && q.sort === 'arrival') return [slidesArm(null)];
  if (q.sort === 'arrival') {
    // By arrival, the slides the model in use predicted as the label.
    const label = q.label!;
    const arm = slidesArm(null);
    return [
      {
        ...arm,
        where: (p, d) => [...arm.where(p, d), `EXISTS (SELECT 1 FROM ranks r WHERE r.sha256 = t.sha256 AND r.model_id = ${p(model)} AND r.label = ${p(label)})`],
        size: { kind: 'rank', model, labelled, label },
      },
    ];
  }
  const ranked: Arm = {
    table: 'ranks',
    where: (p, d) => [
      `t.model_id = ${p(model)}`,
      `t.gone = ${d.bool(false)}`,
      ...(labelled === null ? [] : [`t.labelled = ${d.bool(labelled)}`]),
      ...(q.label === null ? [] : [`t.label = ${p(q.label)}`]),
    ],
    order: RANK_ORDER,
    size: { kind: 'rank', model, labelled, label: q.label },
  };
  // A label filter lists only slides the model in use predicted as that label.
  return q.label === null ? [ranked, slidesArm(model)] : [ranked];
}

/** `SELECT sha256` of an arm, from `offset`, at most `limit` keys. */
export function armKeysSql(arm: Arm, p: Param, d: Dialect, range: { offset: number; limit: number }): string {
  return `SELECT t.sha256 FROM ${arm.table} t WHERE ${arm.where(p, d).join(' AND ')} ORDER BY ${arm.order.map((c) => `t.${c}`).join(', ')}
          LIMIT ${p(range.limit)} OFFSET ${p(range.offset)}`;
}

/** The sort key of one slide in an arm, or no row when the arm does not list it. */
export function armKeyOfSql(arm: Arm, p: Param, d: Dialect, sha256: string): string {
  return `SELECT ${arm.order.map((c) => `t.${c}`).join(', ')} FROM ${arm.table} t WHERE ${[...arm.where(p, d), `t.sha256 = ${p(sha256)}`].join(' AND ')}`;
}

/** The keys of an arm before (descending, nearest first) or from (ascending) a sort key, on the arm's index. */
export function armKeysAroundSql(arm: Arm, p: Param, d: Dialect, key: unknown[], dir: 'before' | 'from', limit: number): string {
  const cols = arm.order.map((c) => `t.${c}`).join(', ');
  // The placeholders in the order of the text: the arm's conditions first.
  const where = arm.where(p, d);
  const at = `(${cols}) ${dir === 'before' ? '<' : '>='} (${key.map((v) => p(v)).join(', ')})`;
  const order = arm.order.map((c) => `t.${c}${dir === 'before' ? ' DESC' : ''}`).join(', ');
  return `SELECT t.sha256 FROM ${arm.table} t WHERE ${[...where, at].join(' AND ')} ORDER BY ${order} LIMIT ${p(limit)}`;
}

/** How many keys of an arm sort before a sort key: the slide's position in its arm. */
export function armCountBeforeSql(arm: Arm, p: Param, d: Dialect, key: unknown[]): string {
  const cols = arm.order.map((c) => `t.${c}`).join(', ');
  return `SELECT COUNT(*) AS n FROM ${arm.table} t WHERE ${[...arm.where(p, d), `(${cols}) < (${key.map((v) => p(v)).join(', ')})`].join(' AND ')}`;
}

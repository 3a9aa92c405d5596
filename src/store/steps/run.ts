// The store's logic is written once, as generators that yield the queries they need and receive the
// answers: the SQLite store answers them synchronously inside its transaction (better-sqlite3 cannot
// await there), the PostgreSQL store asynchronously on its transaction's client.

/** A step's query: a name and its arguments; `T` is what the answer must be. */
export type Steps<Q, R> = Generator<Q, R, unknown>;

export function runSync<Q, R>(steps: Steps<Q, R>, answer: (q: Q) => unknown): R {
  for (let next = steps.next(); ;) {
    if (next.done) return next.value;
    next = steps.next(answer(next.value));
  }
}

export async function runAsync<Q, R>(steps: Steps<Q, R>, answer: (q: Q) => Promise<unknown>): Promise<R> {
  for (let next = steps.next(); ;) {
    if (next.done) return next.value;
    next = steps.next(await answer(next.value));
  }
}

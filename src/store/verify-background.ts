// The whole journal check, off the app's thread (issue #37): better-sqlite3 reads synchronously, and at a
// million slides the check takes seconds that the first frame must not wait for. The app checks the
// journal's tail before its first frame (verifyRecent) and this after it; decisions wait for it.
import { Worker } from 'node:worker_threads';
import type { VerifyResult } from './journal.js';
import { damagedError } from './integrity.js';
import type { Identity, SlideStore } from './types.js';

/** The result of verifyJournal on a connection of the worker's own. */
export function verifyInBackground(location: string, identity: Identity): Promise<VerifyResult> {
  const worker = new Worker(new URL('./verify-boot.mjs', import.meta.url), { workerData: { location, identity } });
  worker.unref(); // quitting the app does not wait for it
  const stopped = (why: string): VerifyResult => ({ ok: false, entries: 0, problems: [`the journal check stopped: ${why}`] });
  return new Promise((resolve) => {
    worker.once('message', (result: VerifyResult) => resolve(result));
    worker.once('error', (err) => resolve(stopped(err.message)));
    worker.once('exit', (code) => resolve(stopped(`its worker exited with code ${code}`)));
  });
}

/** The store, with each decision and undo held until `checked` passes: refused with the damage named when it does not. */
export function afterCheck(store: SlideStore, checked: Promise<VerifyResult>): SlideStore {
  const intact = checked.then((r) => {
    if (!r.ok) throw damagedError(store.location, r);
  });
  intact.catch(() => undefined); // seen by whoever decides, and by the app's own handler
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if ((prop === 'decide' || prop === 'undo') && typeof value === 'function') return async (...args: unknown[]) => (await intact, value.apply(target, args));
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

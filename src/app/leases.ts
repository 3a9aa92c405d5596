// Keeping technicians apart: the open slide is leased to this instance, Enter on a slide another
// technician has open asks first (y opens it anyway), and when another instance took a slide first, this
// one moves on to the next free slide instead of sitting on the same one.
import { useCallback, useEffect, useLayoutEffect, useRef, type RefObject } from 'react';
import { useStore } from '../contexts/StoreContext.js';
import { currentLabel, type StoreView } from '../store/schema.js';
import { LEASE_MS, leasedByOther, type Claim } from '../store/leases.js';
import type { TriageAction, TriageState } from '../state/triage.js';
import { slidePathOf } from './decisions.js';
import type { SlideRow } from '../queue/rows.js';

/** The first slide after `at` in `order` (then before it) that no other instance has open, or null. */
export function nextFree(order: string[], at: number, isFree: (sha: string) => boolean): { sha: string; index: number } | null {
  for (let k = at + 1; k < order.length; k++) if (isFree(order[k])) return { sha: order[k], index: k };
  for (let k = at - 1; k >= 0; k--) if (isFree(order[k])) return { sha: order[k], index: k };
  return null;
}

export const isFreeIn = (data: StoreView) => (sha: string) => !leasedByOther(data.leases[sha]);

interface LeaseContext {
  /** The slide on the screen, or selected in the queue. */
  row: SlideRow | undefined;
  order: string[];
  state: TriageState;
  latest: RefObject<TriageState>;
  dispatch(a: TriageAction): void;
}

export function useLeases({ row, order, state, latest, dispatch }: LeaseContext) {
  const selectedRow = row;
  const { store, data } = useStore();
  const sha = state.screen === 'slide' ? (row?.sha256 ?? null) : null;
  // A slide left while its decision is still on its way to the journal keeps its lease until the decision
  // is there: in between, another instance would find it neither open nor decided.
  const deciding = useRef(new Map<string, Promise<unknown>>());
  const holdWhile = useCallback((of: string, decision: Promise<unknown>) => {
    const settled = decision.catch(() => undefined);
    deciding.current.set(of, settled);
    void settled.then(() => deciding.current.get(of) === settled && deciding.current.delete(of));
  }, []);
  // Each slide's lease attempt: a decision waits for it, so that a slide another instance took first is
  // never decided here, however fast the key after it came.
  const claims = useRef(new Map<string, Promise<Claim>>());
  const claimOf = useCallback(
    (of: string) => {
      let attempt = claims.current.get(of);
      if (!attempt) {
        const override = latest.current.override === of;
        // In the to-review list a slide decided meanwhile (the list shown can be 2 s behind) is not taken.
        const unlabelledOnly = !override && latest.current.stateFilter === 'to review';
        attempt = store.claim(of, { override, unlabelledOnly }).catch((err: Error): Claim => ({ ok: false, reason: 'open', by: err.message }));
        claims.current.set(of, attempt);
      }
      return attempt;
    },
    [store, latest],
  );
  const claim = useCallback(async (of: string) => (await claimOf(of)).ok, [claimOf]);
  // The list as of now, without re-leasing the slide each time the list is redrawn.
  const orderNow = useRef(order);
  useLayoutEffect(() => {
    orderNow.current = order;
  });

  useEffect(() => {
    if (!sha) return;
    let live = true;
    const attempts = claims.current;
    void (async () => {
      const claimed = await claimOf(sha);
      if (claimed.ok) return;
      const fresh = await store.read();
      if (!live) return; // the technician has moved on meanwhile
      const why = claimed.reason === 'decided' ? `${claimed.by} decided ${slidePathOf(fresh, sha)} meanwhile` : `${claimed.by} opened ${slidePathOf(fresh, sha)} first`;
      // Free, and (in the to-review list) still to review: the list shown may not have caught up yet.
      const free = isFreeIn(fresh);
      const toReview = latest.current.stateFilter === 'to review';
      const next = nextFree(orderNow.current, orderNow.current.indexOf(sha), (x) => free(x) && !(toReview && currentLabel(fresh, x)));
      if (!next) {
        dispatch({ type: 'go', screen: 'queue' });
        return dispatch({ type: 'message', text: `${why}, and every other slide here is open elsewhere or decided` });
      }
      dispatch({ type: 'pin', ...next });
      dispatch({ type: 'message', text: `${why}: moved on to ${slidePathOf(fresh, next.sha)}` });
    })();
    const inFlight = deciding.current;
    // Renewed while the slide stays open (a technician may look for longer than a lease lasts); never taken
    // back from an instance that was let take it over meanwhile.
    const renew = setInterval(() => void store.lease(sha).catch(() => undefined), LEASE_MS / 2);
    return () => {
      clearInterval(renew);
      live = false;
      attempts.delete(sha);
      void (inFlight.get(sha) ?? Promise.resolve()).then(() => store.releaseLease(sha));
    };
  }, [sha, store, latest, dispatch, claimOf]);

  /** Enter on the queue: opens the selected slide, or asks when another technician has it open. */
  const open = useCallback(() => {
    if (!selectedRow) return;
    if (!selectedRow.openBy) return dispatch({ type: 'go', screen: 'slide' });
    dispatch({ type: 'lease-asked', sha: selectedRow.sha256 });
    dispatch({ type: 'message', text: `${selectedRow.openBy} has ${selectedRow.path} open: press y to open it anyway (the last decision made is the label), or pick another slide` });
  }, [selectedRow, dispatch]);

  /** y after that question. */
  const openAnyway = useCallback(() => {
    const asked = latest.current.leaseAsked;
    if (!asked || asked !== selectedRow?.sha256) return dispatch({ type: 'message', text: 'y answers the question Enter asks on a slide open elsewhere; none is asked' });
    dispatch({ type: 'override', sha: asked });
    dispatch({ type: 'go', screen: 'slide' });
  }, [selectedRow, latest, dispatch]);

  return { open, openAnyway, claim, holdWhile, isFree: isFreeIn(data) };
}

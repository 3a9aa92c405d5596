// Keeping technicians apart: the open slide is leased to this instance, Enter on a slide another
// technician has open asks first (y opens it anyway), and when another instance took a slide first, this
// one moves on to the next free slide instead of sitting on the same one.
import { useCallback, useEffect, useLayoutEffect, useRef, type RefObject } from 'react';
import { useStore } from '../contexts/StoreContext.js';
import type { Lease } from '../store/schema.js';
import { LEASE_MS, leasedByOther } from '../store/leases.js';
import type { Claim } from '../store/types.js';
import type { TriageAction, TriageState } from '../state/triage.js';
import { slidePathOf } from './decisions.js';
import { keysAround, type SlideRow } from '../queue/rows.js';

/** The first slide after `at` in `order` (then before it) that no other instance has open, or null. */
export function nextFree(order: string[], at: number, isFree: (sha: string) => boolean): { sha: string; index: number } | null {
  for (let k = at + 1; k < order.length; k++) if (isFree(order[k])) return { sha: order[k], index: k };
  for (let k = at - 1; k >= 0; k--) if (isFree(order[k])) return { sha: order[k], index: k };
  return null;
}

export const isFreeIn = (leases: Record<string, Lease>) => (sha: string) => !leasedByOther(leases[sha]);

/** A lease attempt: taken, refused (another instance has it, or it was decided), or not written at all. */
type Attempt = Claim | { ok: false; reason: 'failed'; message: string };

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
  const { store, leases } = useStore();
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
  const claims = useRef(new Map<string, Promise<Attempt>>());
  const claimOf = useCallback(
    (of: string) => {
      let attempt = claims.current.get(of);
      if (!attempt) {
        const override = latest.current.override === of;
        // In the to-review list a slide decided meanwhile (the list shown can be 2 s behind) is not taken.
        const unlabelledOnly = !override && latest.current.stateFilter === 'to review';
        attempt = store.claim(of, { override, unlabelledOnly }).catch((err: Error): Attempt => ({ ok: false, reason: 'failed', message: err.message }));
        claims.current.set(of, attempt);
      }
      return attempt;
    },
    [store, latest],
  );
  // A lease that could not be written (a full disk) does not stop the decision: its own write says why it fails.
  const claim = useCallback(
    async (of: string) => {
      const attempt = await claimOf(of);
      return attempt.ok || attempt.reason === 'failed';
    },
    [claimOf],
  );
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
      if (claimed.reason === 'failed') return dispatch({ type: 'message', text: `this slide could not be leased (${claimed.message}): another technician may open it meanwhile` });
      // The leases as they are now, and the rows of the slides near this one (the list shown may not have caught up yet).
      const order = orderNow.current;
      const at = order.indexOf(sha);
      const [leasesNow, near] = await Promise.all([store.liveLeases(), store.queueRows([...keysAround(order, at), sha], null)]);
      if (!live) return; // the technician has moved on meanwhile
      const fresh = new Map(near.map((r) => [r.sha256, r]));
      const why = claimed.reason === 'decided' ? `${claimed.by} decided ${slidePathOf(fresh, sha)} meanwhile` : `${claimed.by} opened ${slidePathOf(fresh, sha)} first`;
      // Free, and (in the to-review list) still to review.
      const free = isFreeIn(leasesNow);
      const toReview = latest.current.stateFilter === 'to review';
      const next = nextFree(order, at, (x) => free(x) && !(toReview && fresh.get(x)?.label));
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
      // A lease that cannot be let go (a full disk) runs out by itself.
      void (inFlight.get(sha) ?? Promise.resolve()).then(() => store.releaseLease(sha)).catch(() => undefined);
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

  return { open, openAnyway, claim, holdWhile, isFree: isFreeIn(leases) };
}

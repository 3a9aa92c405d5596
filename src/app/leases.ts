// Keeping technicians apart: the open slide is leased to this instance, Enter on a slide another
// technician has open asks first (y opens it anyway), and when another instance took a slide first, this
// one moves on to the next free slide instead of sitting on the same one.
import { useCallback, useEffect, useLayoutEffect, useRef, type RefObject } from 'react';
import { useStore } from '../contexts/StoreContext.js';
import type { StoreData } from '../store/schema.js';
import { leasedByOther } from '../store/store.js';
import type { TriageAction, TriageState } from '../state/triage.js';
import { slidePathOf } from './decisions.js';
import type { SlideRow } from './rows.js';

/** The first slide after `at` in `order` (then before it) that no other instance has open, or null. */
export function nextFree(order: string[], at: number, isFree: (sha: string) => boolean): { sha: string; index: number } | null {
  for (let k = at + 1; k < order.length; k++) if (isFree(order[k])) return { sha: order[k], index: k };
  for (let k = at - 1; k >= 0; k--) if (isFree(order[k])) return { sha: order[k], index: k };
  return null;
}

export const isFreeIn = (data: StoreData) => (sha: string) => !leasedByOther(data.leases[sha]);

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
  // The list as of now, without re-leasing the slide each time the list is redrawn.
  const orderNow = useRef(order);
  useLayoutEffect(() => {
    orderNow.current = order;
  });

  useEffect(() => {
    if (!sha) return;
    let live = true;
    void (async () => {
      if (await store.lease(sha, undefined, latest.current.override === sha)) return;
      const fresh = await store.read();
      if (!live || latest.current.selectedSha !== sha) return;
      const holder = fresh.leases[sha]?.technician ?? 'another technician';
      const next = nextFree(orderNow.current, orderNow.current.indexOf(sha), isFreeIn(fresh));
      if (!next) {
        dispatch({ type: 'go', screen: 'queue' });
        return dispatch({ type: 'message', text: `${holder} opened ${slidePathOf(fresh, sha)} first, and every other slide here is open elsewhere` });
      }
      dispatch({ type: 'pin', ...next });
      dispatch({ type: 'message', text: `${holder} opened ${slidePathOf(fresh, sha)} first: moved on to ${slidePathOf(fresh, next.sha)}` });
    })();
    return () => {
      live = false;
      void store.releaseLease(sha);
    };
  }, [sha, store, latest, dispatch]);

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

  return { open, openAnyway, isFree: isFreeIn(data) };
}

// Leases keep technicians apart: a slide open in one instance is leased to it for a few minutes, and
// another instance passes over it. A lease is a row, taken in the same write transaction that looks at the
// slide's label, so that a slide decided meanwhile is seen as decided. A lease of a process that has died
// (on this host) is void at once; on another host it lasts until it expires.
import { hostName, processAlive } from '../core/host.js';
import type { Lease } from './schema.js';

export const LEASE_MS = 5 * 60_000;
/** The longest a lease may run from its last renewal (the app renews every LEASE_MS / 2). */
export const MAX_LEASE_MS = LEASE_MS;
/** Hosts' clocks may disagree by this much. */
const CLOCK_SLACK_MS = 60_000;

/**
 * A live lease of another instance: not expired, not further out than a renewal can set (a row with an
 * expiry in 2286 and pid 1 once held every slide "open: mallory" for ever), and on this host its process
 * still runs.
 */
export function leasedByOther(lease: Lease | undefined): boolean {
  if (!lease || lease.expiresAt <= Date.now()) return false;
  if (lease.expiresAt > Date.now() + MAX_LEASE_MS + CLOCK_SLACK_MS) return false;
  if (lease.host !== hostName()) return true;
  if (lease.pid === process.pid) return false;
  return processAlive(lease.pid);
}

/** This instance's lease on a slide, for `ttlMs` from now. */
export function ownLease(technician: string, ttlMs = LEASE_MS): Lease {
  return { technician, pid: process.pid, host: hostName(), expiresAt: Date.now() + Math.min(ttlMs, MAX_LEASE_MS) };
}

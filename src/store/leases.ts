// Leases keep technicians apart: a slide open in one instance is leased to it for a few minutes, and
// another instance passes over it. A lease of a process that has died (on this host) is void at once.
import os from 'node:os';
import { currentLabel, type Lease, type StoreData } from './schema.js';

export const LEASE_MS = 5 * 60_000;

/** A live lease of another instance: not expired, and on this host its process still runs. */
export function leasedByOther(lease: Lease | undefined): boolean {
  if (!lease || lease.expiresAt <= Date.now()) return false;
  if (lease.host !== os.hostname()) return true;
  if (lease.pid === process.pid) return false;
  try {
    process.kill(lease.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function leaseFor(technician: string, ttlMs = LEASE_MS): Lease {
  return { technician, pid: process.pid, host: os.hostname(), expiresAt: Date.now() + ttlMs };
}

export type Claim = { ok: true } | { ok: false; reason: 'open' | 'decided'; by: string };

export interface ClaimOptions {
  ttlMs?: number;
  /** The technician was asked and chose to open it although another instance has it. */
  override?: boolean;
  /** Only while the slide has no label (moving on through the to-review list, whose view may be stale). */
  unlabelledOnly?: boolean;
}

/** Leases the slide to this instance unless another live one has it (or, asked, it was decided meanwhile). */
export function claimSlide(data: StoreData, sha256: string, technician: string, o: ClaimOptions = {}): Claim {
  const held = data.leases[sha256];
  if (!o.override && leasedByOther(held)) return { ok: false, reason: 'open', by: held.technician };
  const decided = currentLabel(data, sha256);
  if (o.unlabelledOnly && decided) return { ok: false, reason: 'decided', by: decided.technician };
  data.leases[sha256] = leaseFor(technician, o.ttlMs);
  return { ok: true };
}

/** Ends this instance's lease on the slide (another's is left alone). */
export function dropLease(data: StoreData, sha256: string): void {
  const held = data.leases[sha256];
  if (held && held.pid === process.pid && held.host === os.hostname()) delete data.leases[sha256];
}

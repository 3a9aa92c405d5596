// Leases in the embedded store (see ../leases.ts): claimed in a write transaction with the slide's label.
import os from 'node:os';
import { leasedByOther, LEASE_MS, ownLease } from '../leases.js';
import { bareRecord, type Lease } from '../schema.js';
import type { Claim, ClaimOptions } from '../types.js';
import type { Db } from './connection.js';

export class LeaseTable {
  private readonly q;

  constructor(
    private readonly db: Db,
    private readonly technician: string,
  ) {
    this.q = {
      get: db.prepare<[string], { technician: string; pid: number; host: string; expires_at: number }>('SELECT * FROM leases WHERE sha256 = ?'),
      put: db.prepare(
        `INSERT INTO leases (sha256, technician, pid, host, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (sha256) DO UPDATE SET technician = excluded.technician, pid = excluded.pid, host = excluded.host, expires_at = excluded.expires_at`,
      ),
      release: db.prepare('DELETE FROM leases WHERE sha256 = ? AND pid = ? AND host = ?'),
      live: db.prepare<[number], { sha256: string; technician: string; pid: number; host: string; expires_at: number }>('SELECT * FROM leases WHERE expires_at > ?'),
      decidedBy: db.prepare<[string], { technician: string }>('SELECT j.technician FROM slides s JOIN journal j ON j.seq = s.label_seq WHERE s.sha256 = ?'),
    };
  }

  get(sha256: string): Lease | undefined {
    const r = this.q.get.get(sha256);
    return r && { technician: r.technician, pid: r.pid, host: r.host, expiresAt: r.expires_at };
  }

  put(sha256: string, l: Lease): void {
    this.q.put.run(sha256, l.technician, l.pid, l.host, l.expiresAt);
  }

  /** Leases the slide to this instance unless another live one has it (or, asked, it was decided meanwhile); inside a write transaction. */
  claim(sha256: string, o: ClaimOptions = {}): Claim {
    const held = this.get(sha256);
    if (!o.override && held && leasedByOther(held)) return { ok: false, reason: 'open', by: held.technician };
    const decided = o.unlabelledOnly ? this.q.decidedBy.get(sha256) : undefined;
    if (decided) return { ok: false, reason: 'decided', by: decided.technician };
    this.put(sha256, ownLease(this.technician, o.ttlMs ?? LEASE_MS));
    return { ok: true };
  }

  /** Ends this instance's lease on the slide (another's is left alone). */
  release(sha256: string): void {
    this.q.release.run(sha256, process.pid, os.hostname());
  }

  live(): Record<string, Lease> {
    const out = bareRecord<Lease>();
    for (const r of this.q.live.all(Date.now())) out[r.sha256] = { technician: r.technician, pid: r.pid, host: r.host, expiresAt: r.expires_at };
    return out;
  }
}

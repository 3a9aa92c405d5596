// Leases in the embedded store (see ../leases.ts); claimed by the steps of ../steps/decisions.ts.
import { hostName } from '../../core/host.js';
import { bareRecord, type Lease } from '../schema.js';
import type { Db } from './connection.js';

type LeaseRow = { sha256: string; technician: string; pid: number; host: string; expires_at: number };
const leaseOf = (r: LeaseRow): Lease => ({ technician: r.technician, pid: r.pid, host: r.host, expiresAt: r.expires_at });

export class LeaseTable {
  private readonly q;

  constructor(db: Db) {
    this.q = {
      get: db.prepare<[string], LeaseRow>('SELECT * FROM leases WHERE sha256 = ?'),
      put: db.prepare(
        `INSERT INTO leases (sha256, technician, pid, host, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (sha256) DO UPDATE SET technician = excluded.technician, pid = excluded.pid, host = excluded.host, expires_at = excluded.expires_at`,
      ),
      release: db.prepare('DELETE FROM leases WHERE sha256 = ? AND pid = ? AND host = ?'),
      live: db.prepare<[number], LeaseRow>('SELECT * FROM leases WHERE expires_at > ?'),
      decidedBy: db.prepare<[string], string>('SELECT j.technician FROM slides s JOIN journal j ON j.seq = s.label_seq WHERE s.sha256 = ?').pluck(),
    };
  }

  get(sha256: string): Lease | undefined {
    const r = this.q.get.get(sha256);
    return r && leaseOf(r);
  }

  put(sha256: string, l: Lease): void {
    this.q.put.run(sha256, l.technician, l.pid, l.host, l.expiresAt);
  }

  decidedBy(sha256: string): string | undefined {
    return this.q.decidedBy.get(sha256);
  }

  /** Ends this instance's lease on the slide (another's is left alone). */
  release(sha256: string): void {
    this.q.release.run(sha256, process.pid, hostName());
  }

  live(): Record<string, Lease> {
    const out = bareRecord<Lease>();
    for (const r of this.q.live.all(Date.now())) out[r.sha256] = leaseOf(r);
    return out;
  }
}

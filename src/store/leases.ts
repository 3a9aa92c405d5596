// Leases keep technicians apart: a slide open in one instance is leased to it for a few minutes, and
// another instance passes over it. A lease is a small file, leases/<sha256>.json beside the store, taken
// under the journal's lock — against the journal, the record of every decision — so that it costs about
// a millisecond however large the store, and a slide decided meanwhile is seen as decided. A lease of a
// process that has died (on this host) is void at once.
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIR_MODE, FILE_MODE } from './files.js';
import type { JournalLog } from './journal-log.js';
import { bareRecord, currentOf, leaseSchema, type Lease } from './schema.js';

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

export type Claim = { ok: true } | { ok: false; reason: 'open' | 'decided'; by: string };

export interface ClaimOptions {
  ttlMs?: number;
  /** The technician was asked and chose to open it although another instance has it. */
  override?: boolean;
  /** Only while the slide has no label (moving on through the to-review list, whose view may be stale). */
  unlabelledOnly?: boolean;
}

export class LeaseBook {
  constructor(
    readonly dir: string,
    private readonly journal: JournalLog,
    private readonly technician: string,
  ) {}

  private fileOf(sha256: string): string {
    return path.join(this.dir, `${sha256}.json`);
  }

  private readSync(sha256: string): Lease | undefined {
    try {
      return leaseSchema.parse(JSON.parse(readFileSync(this.fileOf(sha256), 'utf8')));
    } catch {
      return undefined;
    }
  }

  /** Writes a lease (this instance's, or — in tests — another's) whole: a temporary file renamed over it. */
  writeSync(sha256: string, lease: Lease): void {
    mkdirSync(this.dir, { recursive: true, mode: DIR_MODE });
    const tmp = `${this.fileOf(sha256)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(lease), { mode: FILE_MODE });
    chmodSync(tmp, FILE_MODE);
    renameSync(tmp, this.fileOf(sha256));
  }

  /** Leases the slide to this instance unless another live one has it (or, asked, it was decided meanwhile). */
  claim(sha256: string, o: ClaimOptions = {}): Promise<Claim> {
    return this.journal.underLock((): Claim => {
      const held = this.readSync(sha256);
      if (!o.override && held && leasedByOther(held)) return { ok: false, reason: 'open', by: held.technician };
      const decided = currentOf(this.journal.decisionsOf(sha256));
      if (o.unlabelledOnly && decided) return { ok: false, reason: 'decided', by: decided.technician };
      this.writeSync(sha256, { technician: this.technician, pid: process.pid, host: os.hostname(), expiresAt: Date.now() + (o.ttlMs ?? LEASE_MS) });
      return { ok: true };
    });
  }

  /** Ends this instance's lease on the slide (another's is left alone). */
  release(sha256: string): Promise<void> {
    return this.journal.underLock(() => {
      const held = this.readSync(sha256);
      if (held && held.pid === process.pid && held.host === os.hostname()) unlinkSync(this.fileOf(sha256));
    });
  }

  /** Every lease in force, by slide. (Expired ones stay until the slide is leased again, or released.) */
  all(): Record<string, Lease> {
    const out = bareRecord<Lease>();
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => /^[0-9a-f]{64}\.json$/.test(n));
    } catch {
      return out;
    }
    for (const name of names) {
      const lease = this.readSync(name.slice(0, 64));
      if (lease && lease.expiresAt > Date.now()) out[name.slice(0, 64)] = lease;
    }
    return out;
  }
}

// The label store: lowdb over a JSON file, made safe across processes. Every change takes a
// cross-process lock (lock.ts), re-reads the file under it, applies the change and writes a temporary file unique
// to the process before renaming it over the store, so a crash leaves the last good file and two writers
// never lose each other's records. Label decisions go to the audit journal first, then to the store.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { Low, type Adapter } from 'lowdb';
import { ensureDir, writeDurable } from './files.js';
import { acquireLock } from './lock.js';
import { appendJournal, readJournal, type JournalEntry, type JournalInput } from './journal.js';
import { currentLabel, emptyStore, upgrade, type Decision, type Lease, type StoreData } from './schema.js';

/** lowdb adapter: validated and migrated on read, durable on write. */
class DurableJsonAdapter implements Adapter<StoreData> {
  constructor(private readonly file: string) {}

  async read(): Promise<StoreData | null> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`the store ${this.file} is not valid JSON (${(err as Error).message}): it was changed outside slidetriage; the audit journal beside it holds every label decision`);
    }
    return upgrade(json, this.file);
  }

  async write(data: StoreData): Promise<void> {
    await writeDurable(this.file, JSON.stringify(data));
  }
}

export interface Identity {
  /** The operating-system user: SSH has authenticated them, and the journal always records it. */
  technician: string;
  displayName: string | null;
}

export function currentIdentity(displayName: string | null = null): Identity {
  return { technician: os.userInfo().username, displayName };
}

export interface DecisionInput {
  sha256: string;
  action: 'confirm' | 'correct';
  label: string;
  note?: string;
  modelId: string | null;
  predicted: string | null;
  probabilities: Record<string, number> | null;
}

export class SlideStore {
  private readonly adapter: DurableJsonAdapter;
  private readonly db: Low<StoreData>;

  private constructor(
    readonly file: string,
    readonly journalFile: string,
    readonly identity: Identity,
  ) {
    this.adapter = new DurableJsonAdapter(file);
    this.db = new Low(this.adapter, emptyStore());
  }

  /** Opens (creating if needed) the store and journal, and applies journal entries a crash left unapplied. */
  static async open(file: string, journalFile: string, identity: Identity = currentIdentity()): Promise<SlideStore> {
    await ensureDir(path.dirname(file));
    await ensureDir(path.dirname(journalFile));
    const store = new SlideStore(file, journalFile, identity);
    await store.update(async (data) => {
      const { entries } = await readJournal(journalFile);
      for (const e of entries.filter((x) => x.seq > data.journalHead.seq)) applyEntry(data, e);
    });
    return store;
  }

  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const release = await acquireLock(this.file);
    try {
      return await fn();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /**
   * A consistent snapshot without the lock: the file is only ever replaced whole. It is read into its
   * own object: reading into this.db would swap the data an update in flight has changed (it awaits the
   * journal's fsync) for the file's older content, and that update would then write the older content.
   */
  async read(): Promise<StoreData> {
    const snapshot = new Low(this.adapter, emptyStore());
    await snapshot.read();
    return snapshot.data;
  }

  /** Runs fn on the freshest data under the lock and writes the result. */
  async update<T>(fn: (data: StoreData) => T | Promise<T>): Promise<T> {
    return this.withLock(async () => {
      await this.db.read();
      const result = await fn(this.db.data);
      await this.db.write();
      return result;
    });
  }

  /** Confirms or corrects a slide's label: journal entry first (fsynced), then the store. */
  async decide(input: DecisionInput): Promise<JournalEntry> {
    return this.update(async (data) => {
      if (!data.slides[input.sha256]) throw new Error(`no slide with sha256 ${input.sha256}`);
      const entry = await appendJournal(this.journalFile, data.journalHead, {
        sha256: input.sha256,
        action: input.action,
        predicted: input.predicted,
        probabilities: input.probabilities,
        label: input.label,
        previousLabel: currentLabel(data, input.sha256)?.label ?? null,
        technician: this.identity.technician,
        displayName: this.identity.displayName,
        modelId: input.modelId,
        note: input.note ?? '',
      });
      applyEntry(data, entry);
      return entry;
    });
  }

  /**
   * Leases a slide to this technician's instance for ttlMs, unless another live instance holds it.
   * Returns whether this instance now holds it. Renewing one's own lease extends it.
   */
  async lease(sha256: string, ttlMs = 5 * 60_000): Promise<boolean> {
    return this.update((data) => {
      if (heldByOther(data.leases[sha256])) return false;
      data.leases[sha256] = { technician: this.identity.technician, pid: process.pid, host: os.hostname(), expiresAt: Date.now() + ttlMs };
      return true;
    });
  }

  async releaseLease(sha256: string): Promise<void> {
    await this.update((data) => {
      const held = data.leases[sha256];
      if (held && held.pid === process.pid && held.host === os.hostname()) delete data.leases[sha256];
    });
  }

  /** The first slide of `order` that has no label and no live lease of another instance, leased to us. */
  async leaseNext(order: string[], ttlMs = 5 * 60_000): Promise<string | null> {
    return this.update((data) => {
      const now = Date.now();
      for (const sha of order) {
        if (!data.slides[sha] || currentLabel(data, sha) || heldByOther(data.leases[sha])) continue;
        data.leases[sha] = { technician: this.identity.technician, pid: process.pid, host: os.hostname(), expiresAt: now + ttlMs };
        return sha;
      }
      return null;
    });
  }

  /** Undoes the slide's last decision with a new entry that restores the label before it. */
  async undo(sha256: string): Promise<JournalEntry | null> {
    return this.update(async (data) => {
      const list = data.decisions[sha256] ?? [];
      if (!list.length) return null;
      const stack = labelStack(list);
      if (!stack.length) return null;
      const current = list.at(-1)!;
      const before = stack.length >= 2 ? stack[stack.length - 2] : null;
      const entry = await appendJournal(this.journalFile, data.journalHead, {
        sha256,
        action: 'undo',
        predicted: current.predicted,
        probabilities: null,
        label: before,
        previousLabel: stack[stack.length - 1],
        technician: this.identity.technician,
        displayName: this.identity.displayName,
        modelId: current.modelId,
        note: '',
      });
      applyEntry(data, entry);
      return entry;
    });
  }
}

/** A live lease of another instance: not expired, and on this host its process still runs. */
function heldByOther(lease: Lease | undefined): boolean {
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

/** Labels as a stack: confirm and correct push, undo pops. The top is the current label. */
export function labelStack(list: Decision[]): string[] {
  const stack: string[] = [];
  for (const d of list) {
    if (d.action === 'undo') stack.pop();
    else if (d.label !== null) stack.push(d.label);
  }
  return stack;
}

/** Applies one journal entry to the store data (also used to replay entries a crash left unapplied). */
export function applyEntry(data: StoreData, e: JournalInput & { seq: number; at: string; hash: string }): void {
  const decision: Decision = {
    action: e.action,
    label: e.label,
    technician: e.technician,
    displayName: e.displayName,
    at: e.at,
    modelId: e.modelId,
    predicted: e.predicted,
    note: e.note,
    journalSeq: e.seq,
  };
  (data.decisions[e.sha256] ??= []).push(decision);
  data.journalHead = { seq: e.seq, hash: e.hash };
}

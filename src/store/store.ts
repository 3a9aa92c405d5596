// The label store: lowdb over a JSON file, made safe across processes. Every change takes a
// cross-process lock (lock.ts), re-reads the file under it, applies the change and writes a temporary file unique
// to the process before renaming it over the store, so a crash leaves the last good file and two writers
// never lose each other's records. A label decision is done once its line is fsynced in the audit journal
// (journal-log.ts: milliseconds); the store applies the journal's new entries after it, in the background
// and at every update, and a crash in between is made good at the next open.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { Low, type Adapter } from 'lowdb';
import { ensureDir, writeDurable } from './files.js';
import { acquireLock, sweepLockLeftovers } from './lock.js';
import type { JournalEntry, JournalInput } from './journal.js';
import { JournalLog } from './journal-log.js';
import { LEASE_MS, LeaseBook, type Claim, type ClaimOptions } from './leases.js';
import { currentOf, decisionOf, emptyStore, upgrade, type Decision, type StoreData, type StoreView } from './schema.js';

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
  /** The label the technician saw on the slide when deciding (null: none); given, a different one is reported. */
  seen?: string | null;
}

export interface Decided {
  entry: JournalEntry;
  /** The decision that had changed the label since the technician looked (another technician's), if any. */
  overrode: Decision | null;
}

export class SlideStore {
  private readonly adapter: DurableJsonAdapter;
  private readonly db: Low<StoreData>;
  private journal!: JournalLog;
  /** Who has which slide open: leases/ beside the store. */
  leases!: LeaseBook;
  /** The store catching up with the journal after decisions; reads wait for it. */
  private applying: Promise<void> = Promise.resolve();
  private applyWaiting = false;
  /** Slides seen in the store, so that a decision on a known slide needs no read of it. */
  private readonly knownSlides = new Set<string>();
  /** The last failure to apply the journal to the store (retried at the next update); null when none. */
  applyError: Error | null = null;

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
    await Promise.all([sweepLockLeftovers(file), sweepLockLeftovers(journalFile)]);
    store.journal = await JournalLog.open(journalFile);
    store.leases = new LeaseBook(path.join(path.dirname(file), 'leases'), store.journal, identity.technician);
    await store.update(() => undefined);
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

  private seen(data: StoreData): StoreData {
    for (const sha of Object.keys(data.slides)) this.knownSlides.add(sha);
    return data;
  }

  /**
   * A consistent snapshot without the lock: the file is only ever replaced whole. It is read into its
   * own object: reading into this.db would swap the data an update in flight has changed for the file's
   * older content, and that update would then write the older content. It waits for this process's
   * decisions to be applied, so that a read after a decision shows it.
   */
  async read(): Promise<StoreView> {
    await this.applying;
    const snapshot = new Low(this.adapter, emptyStore());
    await snapshot.read();
    return { ...this.seen(snapshot.data), leases: this.leases.all() };
  }

  /** Runs fn on the freshest data (the journal's new entries applied) under the lock and writes the result. */
  async update<T>(fn: (data: StoreData) => T | Promise<T>): Promise<T> {
    return this.withLock(async () => {
      await this.db.read();
      const data = this.db.data;
      await this.journal.catchUp();
      for (const e of this.journal.entriesAfter(data.journalHead.seq)) applyEntry(data, e);
      const result = await fn(data);
      await this.db.write();
      this.seen(data);
      return result;
    });
  }

  /** Has the store apply the journal soon; decisions made meanwhile are applied together. */
  private applySoon(): void {
    if (this.applyWaiting) return;
    this.applyWaiting = true;
    this.applying = this.applying.then(async () => {
      this.applyWaiting = false;
      try {
        await this.update(() => undefined);
        this.applyError = null;
      } catch (err) {
        this.applyError = err as Error; // the journal holds the decision; the next update applies it
      }
    });
  }

  private async checkSlide(sha256: string): Promise<void> {
    if (!this.knownSlides.has(sha256) && !(await this.read()).slides[sha256]) throw new Error(`no slide with sha256 ${sha256}`);
  }

  private entryFields(sha256: string, current: Decision | null) {
    return { sha256, previousLabel: current?.label ?? null, technician: this.identity.technician, displayName: this.identity.displayName };
  }

  /** Confirms or corrects a slide's label: done once the journal line is on disk; the store follows. */
  async decide(input: DecisionInput): Promise<Decided> {
    await this.checkSlide(input.sha256);
    const made = await this.journal.append(input.sha256, (decisions) => {
      const current = currentOf(decisions);
      const overrode = input.seen !== undefined && (current?.label ?? null) !== input.seen ? current : null;
      const fields: JournalInput = {
        ...this.entryFields(input.sha256, current),
        action: input.action,
        predicted: input.predicted,
        probabilities: input.probabilities,
        label: input.label,
        modelId: input.modelId,
        note: input.note ?? '',
      };
      return { input: fields, extra: overrode };
    });
    this.applySoon();
    return { entry: made!.entry, overrode: made!.extra };
  }

  /** Undoes the slide's last decision with a new entry that restores the label before it. */
  async undo(sha256: string): Promise<JournalEntry | null> {
    const made = await this.journal.append(sha256, (decisions) => {
      const stack = labelStack(decisions);
      if (!stack.length) return null;
      const last = decisions.at(-1)!;
      const input: JournalInput = {
        ...this.entryFields(sha256, last),
        action: 'undo',
        predicted: last.predicted,
        probabilities: null,
        label: stack.length >= 2 ? stack[stack.length - 2] : null,
        modelId: last.modelId,
        note: '',
      };
      return { input, extra: null };
    });
    if (made) this.applySoon();
    return made?.entry ?? null;
  }

  /** Leases a slide to this instance for ttlMs unless another live instance has it (see leases.ts). */
  claim(sha256: string, o: ClaimOptions = {}): Promise<Claim> {
    return this.leases.claim(sha256, o);
  }

  async lease(sha256: string, ttlMs = LEASE_MS, override = false): Promise<boolean> {
    return (await this.claim(sha256, { ttlMs, override })).ok;
  }

  releaseLease(sha256: string): Promise<void> {
    return this.leases.release(sha256);
  }

  /** The first slide of `order` that has no label and no live lease of another instance, leased to us. */
  async leaseNext(order: string[], ttlMs = LEASE_MS): Promise<string | null> {
    for (const sha of order) if (this.knownSlides.has(sha) && (await this.claim(sha, { ttlMs, unlabelledOnly: true })).ok) return sha;
    return null;
  }
}

/** Labels as a stack: confirm and correct push, undo pops. The top is the current label. */
export function labelStack(list: readonly Decision[]): string[] {
  const stack: string[] = [];
  for (const d of list) {
    if (d.action === 'undo') stack.pop();
    else if (d.label !== null) stack.push(d.label);
  }
  return stack;
}

/** Applies one journal entry to the store data (also used to replay entries a crash left unapplied). */
export function applyEntry(data: StoreData, e: JournalEntry): void {
  (data.decisions[e.sha256] ??= []).push(decisionOf(e));
  data.journalHead = { seq: e.seq, hash: e.hash };
}

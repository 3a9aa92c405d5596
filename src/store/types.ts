// The label store's one interface: what the app, the ingest, the predictor and the commands may ask of it.
// The embedded SQLite store (sqlite/) implements it; a PostgreSQL one can follow and pass the same
// conformance suite (test/store-conformance.test.ts). Reads are queries (a page of the queue, counts),
// never the whole store, except `dump`, which copies a store (migration, tests).
import os from 'node:os';
import type { Examined } from '../ingest/ingest.js';
import type { JournalEntry, VerifyResult } from './journal.js';
import type { Decision, FileEntry, Lease, Prediction, Slide, StoreData } from './schema.js';
import type { StoreSummary } from './summary.js';
import type { QueueWindow } from './steps/queue-window.js';

export type { QueueWindow } from './steps/queue-window.js';

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

export type Claim = { ok: true } | { ok: false; reason: 'open' | 'decided'; by: string };

export interface ClaimOptions {
  ttlMs?: number;
  /** The technician was asked and chose to open it although another instance has it. */
  override?: boolean;
  /** Only while the slide has no label (moving on through the to-review list, whose view may be stale). */
  unlabelledOnly?: boolean;
}

/** What the watcher found: a file examined, or a file gone from the folder. */
export type FileOp = { examined: Examined } | { gone: string };

export type SortMode = 'uncertainty' | 'arrival';
export type StateFilter = 'all' | 'to review' | 'labelled' | 'rejected';

export interface QueueQuery {
  /** The model in use: its latest prediction ranks a slide (else the slide's latest prediction). */
  modelId: string | null;
  sort: SortMode;
  state: StateFilter;
  /** Only slides predicted as this label. */
  label: string | null;
}

/** One slide as the queue lists it, with the prediction that ranks it. */
export interface QueueRow {
  sha256: string;
  path: string;
  addedAt: string;
  state: 'to review' | 'labelled';
  predicted: string | null;
  probabilities: Record<string, number> | null;
  confidence: number | null;
  /** Top probability minus the second: small means uncertain. */
  margin: number | null;
  label: string | null;
  modelId: string | null;
  /** Far from the model's training images: its confidence means little. */
  unusual: boolean;
  /** The technician whose live instance (another one) has the slide open, or null. */
  openBy: string | null;
  /** The prediction shown: the model in use's latest, else the slide's latest; null before any. */
  prediction: Prediction | null;
}

export interface LabelledSlide {
  slide: Slide;
  decision: Decision;
}

/** Records a migration or copy brings in whole (files, slides, predictions); journal entries keep their seq and hashes. */
export interface StoreRecords {
  files?: FileEntry[];
  slides?: Slide[];
  predictions?: Array<{ sha256: string; prediction: Prediction }>;
  journal?: JournalEntry[];
  /** What a migration found and did not import (a torn journal line), kept with where it came from. */
  setAside?: Array<{ source: string; what: string; text: string }>;
}

export interface SlideStore {
  readonly identity: Identity;
  /** Where the store is, for messages (a file, or a database address without its password). */
  readonly location: string;
  close(): Promise<void>;

  // The incoming folder's files.
  fileEntry(rel: string): Promise<FileEntry | undefined>;
  /** Paths of the files recorded as in the folder (not gone): the watcher's walk compares them. */
  presentFiles(): Promise<string[]>;
  recordFiles(ops: FileOp[]): Promise<FileEntry[]>;
  rejectedFiles(limit?: number): Promise<FileEntry[]>;

  // Slides and predictions.
  slide(sha256: string): Promise<Slide | null>;
  addPrediction(sha256: string, prediction: Prediction): Promise<void>;
  /** Adds heatmaps to the model's latest prediction of the slide. */
  addExplanations(sha256: string, modelId: string, files: Record<string, string>): Promise<void>;
  /** Slides in the folder the model has not predicted (labelled slides with any prediction keep theirs), oldest first. */
  unpredicted(modelId: string, limit: number): Promise<Slide[]>;

  // The queue and the counts.
  /** Every key of the queue, in its order: for tools and tests (the app reads windows). */
  queueOrder(q: QueueQuery): Promise<string[]>;
  /**
   * A window of `size` keys of the queue around the slide `around.sha256` where the queue lists it, else
   * around the position `around.index`; with where it starts and how many the queue lists. Read on the
   * indexes and tallies, whatever the store's size (issue #37).
   */
  queueWindow(q: QueueQuery, around: { sha256: string | null; index: number }, size: number): Promise<QueueWindow>;
  queueRows(sha256s: string[], modelId: string | null): Promise<QueueRow[]>;
  summary(): Promise<StoreSummary>;
  /** What differs between the queue's rank rows and tallies and the tables they are kept from: none when they match (audit verify). */
  queueCheck(): Promise<string[]>;
  decisionsOf(sha256: string): Promise<Decision[]>;
  predictionsOf(sha256: string): Promise<Prediction[]>;
  labelledSlides(): Promise<LabelledSlide[]>;
  /**
   * Changes when another process (another connection) changed the store: cheap enough to poll every
   * second. This store's own writes do not move it: their caller knows of them (the app refreshes after each).
   */
  changeStamp(): Promise<string>;

  // Decisions: done when committed, journal row and all.
  decide(input: DecisionInput): Promise<Decided>;
  undo(sha256: string): Promise<JournalEntry | null>;

  // Leases: who has which slide open.
  claim(sha256: string, o?: ClaimOptions): Promise<Claim>;
  lease(sha256: string, ttlMs?: number, override?: boolean): Promise<boolean>;
  releaseLease(sha256: string): Promise<void>;
  leaseNext(order: string[], ttlMs?: number): Promise<string | null>;
  liveLeases(): Promise<Record<string, Lease>>;
  /** Writes a lease as another instance would (tests, tools). */
  putLease(sha256: string, lease: Lease): Promise<void>;

  // The audit journal.
  journalEntries(): Promise<JournalEntry[]>;
  /** Every entry's hash and link, the labels replayed, the heads; once it passes, the next verifyRecent starts from here. */
  verifyJournal(): Promise<VerifyResult>;
  /** The check before the app's first frame, cheap at any size: the entries since the journal last verified whole (see the stores). */
  verifyRecent(): Promise<VerifyResult>;
  /** The journal's last entry (seq 0 and no hash when empty). */
  journalHead(): Promise<{ seq: number; hash: string }>;

  // Whole copies.
  dump(): Promise<StoreData>;
  importRecords(records: StoreRecords): Promise<void>;
}

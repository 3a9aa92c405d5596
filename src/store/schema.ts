// The label store's shape, with its schema version and the migrations between versions.
import { z } from 'zod';
import type { JournalEntry } from './journal.js';

export const STORE_VERSION = 2;

/**
 * queued, duplicate and rejected are final until the file changes; `changed` (still being written) is read
 * again later; `gone` was removed from the folder, its slide's labels and history kept.
 */
export const fileStateSchema = z.enum(['queued', 'duplicate', 'rejected', 'changed', 'gone']);
export type FileState = z.infer<typeof fileStateSchema>;

export const fileEntrySchema = z.object({
  /** Path relative to the incoming folder. */
  path: z.string(),
  state: fileStateSchema,
  sha256: z.string().nullable(),
  /** For duplicates: the path of the first file with the same sha256. */
  duplicateOf: z.string().nullable(),
  /** For rejections: a code and a sentence. */
  code: z.string().nullable(),
  reason: z.string().nullable(),
  size: z.number(),
  mtimeMs: z.number(),
  seenAt: z.string(),
});
export type FileEntry = z.infer<typeof fileEntrySchema>;

export const slideSchema = z.object({
  sha256: z.string(),
  path: z.string(),
  width: z.number(),
  height: z.number(),
  addedAt: z.string(),
});
export type Slide = z.infer<typeof slideSchema>;

export const predictionSchema = z.object({
  modelId: z.string(),
  label: z.string(),
  probabilities: z.record(z.string(), z.number()),
  at: z.string(),
  /** Explanation method → heatmap file, relative to the store's folder. */
  explanations: z.record(z.string(), z.string()),
  /** Distance from the model's training images (absent: older records, or a model without an index). */
  ood: z.object({ distance: z.number(), threshold: z.number(), unusual: z.boolean() }).nullable().optional(),
});
export type Prediction = z.infer<typeof predictionSchema>;

export const decisionSchema = z.object({
  action: z.enum(['confirm', 'correct', 'undo']),
  /** The label after this decision; null when an undo leaves the slide unlabelled. */
  label: z.string().nullable(),
  technician: z.string(),
  displayName: z.string().nullable(),
  at: z.string(),
  modelId: z.string().nullable(),
  predicted: z.string().nullable(),
  note: z.string(),
  journalSeq: z.number().int(),
});
export type Decision = z.infer<typeof decisionSchema>;

export const leaseSchema = z.object({
  technician: z.string(),
  pid: z.number(),
  host: z.string(),
  expiresAt: z.number(),
});
export type Lease = z.infer<typeof leaseSchema>;

/** A record with no prototype: a key is only ever data, even `__proto__` or `constructor` (file names). */
export function bareRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * z.record, into a bare record: zod's own assigns each key, and `obj['__proto__'] = v` sets the prototype
 * instead of storing an entry, so a file named __proto__ vanished on the next read.
 */
function keyedBy<T extends z.ZodType>(value: T) {
  return z
    .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'expected an object')
    .transform((obj, ctx) => {
      const out = bareRecord<z.output<T>>();
      for (const [key, v] of Object.entries(obj)) {
        const parsed = value.safeParse(v);
        if (!parsed.success) {
          const first = parsed.error.issues[0];
          ctx.addIssue({ code: 'custom', message: first.message, path: [key, ...first.path] });
          return z.NEVER;
        }
        out[key] = parsed.data;
      }
      return out;
    });
}

export const storeSchema = z.object({
  schemaVersion: z.literal(STORE_VERSION),
  files: keyedBy(fileEntrySchema),
  slides: keyedBy(slideSchema),
  predictions: keyedBy(z.array(predictionSchema)),
  /** Every decision per slide, oldest first: history is appended, never rewritten. */
  decisions: keyedBy(z.array(decisionSchema)),
  /** The last journal entry this store has applied. */
  journalHead: z.object({ seq: z.number().int(), hash: z.string() }),
});
export type StoreData = z.infer<typeof storeSchema>;

export function emptyStore(): StoreData {
  return { schemaVersion: STORE_VERSION, files: bareRecord(), slides: bareRecord(), predictions: bareRecord(), decisions: bareRecord(), journalHead: { seq: 0, hash: '' } };
}

/** Migration from version n to n + 1, keyed by n. */
export const MIGRATIONS: Record<number, (data: Record<string, unknown>) => Record<string, unknown>> = {
  // 2 adds the file states `changed` and `gone` (a version-1 program must not read states it does not
  // know), and moves leases out of the store into leases/ beside it.
  1: ({ leases: _leases, ...data }) => data,
};

export class StoreFormatError extends Error {
  override name = 'StoreFormatError';
}

/** Brings parsed JSON up to the current version and checks it. */
export function upgrade(raw: unknown, file: string): StoreData {
  if (typeof raw !== 'object' || raw === null) throw new StoreFormatError(`${file} does not hold a JSON object`);
  let data = raw as Record<string, unknown>;
  let version = typeof data.schemaVersion === 'number' ? data.schemaVersion : NaN;
  if (!Number.isInteger(version)) throw new StoreFormatError(`${file} has no schemaVersion`);
  if (version > STORE_VERSION) throw new StoreFormatError(`${file} was written by a newer slidetriage (schema ${version}; this one reads up to ${STORE_VERSION})`);
  while (version < STORE_VERSION) {
    const step = MIGRATIONS[version];
    if (!step) throw new StoreFormatError(`${file}: no migration from schema ${version}`);
    data = { ...step(data), schemaVersion: version + 1 };
    version++;
  }
  const parsed = storeSchema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new StoreFormatError(`${file} is not a valid store: ${first.path.join('.')}: ${first.message}`);
  }
  return parsed.data;
}

/** The decision that set the slide's current label, or null when it has none (never labelled, or undone). */
export function currentLabel(data: StoreData, sha256: string): Decision | null {
  return currentOf(data.decisions[sha256] ?? []);
}

/** The same, from a slide's list of decisions. */
export function currentOf(decisions: readonly Decision[]): Decision | null {
  const last = decisions.at(-1);
  return last && last.label !== null ? last : null;
}

/**
 * The slides whose file has left the folder — removed, or replaced by other content — with no other file
 * holding them: they leave the queue, and keep their labels and history. A slide with no file entry at
 * all (made by a tool or test) is not taken as gone.
 */
export function goneSlides(data: StoreData): Set<string> {
  const held = new Set<string>();
  for (const f of Object.values(data.files)) if (f.sha256 && f.state !== 'gone' && f.state !== 'rejected') held.add(f.sha256);
  const gone = new Set<string>();
  for (const slide of Object.values(data.slides)) if (data.files[slide.path] && !held.has(slide.sha256)) gone.add(slide.sha256);
  return gone;
}

/** A journal entry as the store keeps it, in the slide's list of decisions. */
export function decisionOf(e: JournalEntry): Decision {
  return { action: e.action, label: e.label, technician: e.technician, displayName: e.displayName, at: e.at, modelId: e.modelId, predicted: e.predicted, note: e.note, journalSeq: e.seq };
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

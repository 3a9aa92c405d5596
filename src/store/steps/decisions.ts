// Decisions and leases as steps (see run.ts): what a decision, an undo and a lease claim read and write,
// the same for every store. Each runs inside one write transaction, the journal's head held by it.
import { leasedByOther, LEASE_MS, ownLease } from '../leases.js';
import type { JournalEntry, JournalInput } from '../journal.js';
import { currentOf, labelStack, type Decision, type Lease } from '../schema.js';
import type { Claim, ClaimOptions, Decided, DecisionInput, Identity } from '../types.js';
import type { Steps } from './run.js';

export type DecisionQuery =
  | { q: 'slideExists'; sha256: string }
  | { q: 'decisions'; sha256: string }
  /** Appends the entry after the journal's head and sets the slide's label; answers the entry. */
  | { q: 'append'; input: JournalInput }
  | { q: 'lease'; sha256: string }
  | { q: 'putLease'; sha256: string; lease: Lease }
  /** The technician whose decision set the slide's label, or undefined while it has none. */
  | { q: 'decidedBy'; sha256: string };

function* ask<T>(query: DecisionQuery): Steps<DecisionQuery, T> {
  return (yield query) as T;
}

const entryFields = (sha256: string, current: Decision | null, who: Identity) => ({ sha256, previousLabel: current?.label ?? null, technician: who.technician, displayName: who.displayName });

export function* decide(input: DecisionInput, who: Identity): Steps<DecisionQuery, Decided> {
  if (!(yield* ask<boolean>({ q: 'slideExists', sha256: input.sha256 }))) throw new Error(`no slide with sha256 ${input.sha256}`);
  const current = currentOf(yield* ask<Decision[]>({ q: 'decisions', sha256: input.sha256 }));
  const overrode = input.seen !== undefined && (current?.label ?? null) !== input.seen ? current : null;
  const fields: JournalInput = {
    ...entryFields(input.sha256, current, who),
    action: input.action,
    predicted: input.predicted,
    probabilities: input.probabilities,
    label: input.label,
    modelId: input.modelId,
    note: input.note ?? '',
  };
  return { entry: yield* ask<JournalEntry>({ q: 'append', input: fields }), overrode };
}

/** Undoes the slide's last decision with a new entry that restores the label before it. */
export function* undo(sha256: string, who: Identity): Steps<DecisionQuery, JournalEntry | null> {
  const decisions = yield* ask<Decision[]>({ q: 'decisions', sha256 });
  const stack = labelStack(decisions);
  if (!stack.length) return null;
  const last = decisions.at(-1)!;
  const label = stack.length >= 2 ? stack[stack.length - 2] : null;
  return yield* ask<JournalEntry>({
    q: 'append',
    input: { ...entryFields(sha256, last, who), action: 'undo', predicted: last.predicted, probabilities: null, label, modelId: last.modelId, note: '' },
  });
}

/** Leases the slide to this instance unless another live one has it (or, asked, it was decided meanwhile). */
export function* claim(sha256: string, o: ClaimOptions, who: Identity): Steps<DecisionQuery, Claim> {
  const held = yield* ask<Lease | undefined>({ q: 'lease', sha256 });
  if (!o.override && held && leasedByOther(held)) return { ok: false, reason: 'open', by: held.technician };
  const decided = o.unlabelledOnly ? yield* ask<string | undefined>({ q: 'decidedBy', sha256 }) : undefined;
  if (decided) return { ok: false, reason: 'decided', by: decided };
  yield { q: 'putLease', sha256, lease: ownLease(who.technician, o.ttlMs ?? LEASE_MS) };
  return { ok: true };
}

// `slidetriage store migrate`: imports an older slidetriage's store.json and audit.jsonl into the SQLite
// store. The journal's chain is verified first and a broken one is refused, naming the entry at fault; a
// torn last line (a crash while it was written: never acknowledged) is set aside with a record of it.
// The old files are only read.
import fs from 'node:fs/promises';
import { readJournal, verifyEntries, type JournalEntry, type TornPiece } from './journal.js';
import { legacyWriter } from './legacy-lock.js';
import { StoreFormatError, upgrade, type StoreData } from './schema.js';
import type { SlideStore } from './types.js';

export interface MigrationReport {
  slides: number;
  files: number;
  predictions: number;
  entries: number;
  torn: TornPiece[];
}

export class MigrationRefused extends Error {
  override name = 'MigrationRefused';
}

async function readLegacyStore(file: string): Promise<StoreData> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new MigrationRefused(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return upgrade(JSON.parse(text), file);
  } catch (err) {
    throw new MigrationRefused(err instanceof StoreFormatError ? err.message : `${file} is not valid JSON (${(err as Error).message})`);
  }
}

/** The journal, verified against the store's head; refused with its problems when it does not verify. */
async function readVerifiedJournal(file: string, head: StoreData['journalHead']): Promise<{ entries: JournalEntry[]; torn: TornPiece[] }> {
  const { entries, badLines, torn } = await readJournal(file);
  const verify = verifyEntries(entries, head, badLines);
  if (!verify.ok) throw new MigrationRefused(`the journal ${file} does not verify, so it is not imported: ${verify.problems.join('; ')}`);
  return { entries, torn };
}

export async function migrateLegacy(store: SlideStore, storeJson: string, journalFile: string): Promise<MigrationReport> {
  for (const f of [storeJson, journalFile]) {
    const writer = await legacyWriter(f);
    if (writer) throw new MigrationRefused(`an older slidetriage (process ${writer.pid} on ${writer.host}) is writing ${f}: stop it, then migrate`);
  }
  const existing = await store.summary();
  if (existing.slides + existing.goneSlides > 0 || existing.journalEntries > 0)
    throw new MigrationRefused(`${store.location} already holds ${existing.slides + existing.goneSlides} slide(s) and ${existing.journalEntries} decision(s): migrate into a new store`);
  const data = await readLegacyStore(storeJson);
  const { entries, torn } = await readVerifiedJournal(journalFile, data.journalHead);
  const unknown = entries.find((e) => !data.slides[e.sha256]);
  if (unknown) throw new MigrationRefused(`journal entry ${unknown.seq} is about slide ${unknown.sha256.slice(0, 12)}…, which ${storeJson} does not hold`);
  const predictions = Object.entries(data.predictions).flatMap(([sha256, list]) => list.map((prediction) => ({ sha256, prediction })));
  await store.importRecords({
    slides: Object.values(data.slides),
    files: Object.values(data.files),
    predictions,
    journal: entries,
    setAside: torn.map((t) => ({ source: journalFile, what: `torn line ${t.line}`, text: t.text })),
  });
  const verify = await store.verifyJournal();
  if (!verify.ok) throw new MigrationRefused(`the imported journal does not verify in ${store.location}: ${verify.problems.join('; ')}`);
  return { slides: Object.keys(data.slides).length, files: Object.keys(data.files).length, predictions: predictions.length, entries: entries.length, torn };
}

/**
 * `slidetriage store migrate --to ADDRESS`: copies a store into another (the embedded one into PostgreSQL),
 * verifying the journal on both sides; the target must be empty, the source is only read.
 */
export async function copyStore(from: SlideStore, to: SlideStore): Promise<MigrationReport> {
  const source = await from.verifyJournal();
  if (!source.ok) throw new MigrationRefused(`the journal of ${from.location} does not verify, so it is not copied: ${source.problems.join('; ')}`);
  const existing = await to.summary();
  if (existing.slides + existing.goneSlides > 0 || existing.journalEntries > 0)
    throw new MigrationRefused(`${to.location} already holds ${existing.slides + existing.goneSlides} slide(s) and ${existing.journalEntries} decision(s): copy into an empty store`);
  const data = await from.dump();
  const journal = await from.journalEntries();
  const predictions = Object.entries(data.predictions).flatMap(([sha256, list]) => list.map((prediction) => ({ sha256, prediction })));
  await to.importRecords({ slides: Object.values(data.slides), files: Object.values(data.files), predictions, journal });
  const target = await to.verifyJournal();
  if (!target.ok || target.entries !== journal.length)
    throw new MigrationRefused(`the copied journal does not verify in ${to.location}: ${target.problems.join('; ') || `${target.entries} of ${journal.length} entries`}`);
  return { slides: Object.keys(data.slides).length, files: Object.keys(data.files).length, predictions: predictions.length, entries: journal.length, torn: [] };
}

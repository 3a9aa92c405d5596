// Headless commands over the incoming folder and the label store: scan, status, export, audit verify and
// export, store migrate.
import fs from 'node:fs/promises';
import type { Config } from '../config.js';
import { storeFolder } from '../config.js';
import { IncomingWatcher } from '../ingest/watcher.js';
import { SETTLE_SECONDS } from '../ingest/ingest.js';
import { journalLines, readJournal, verifyExport, type JournalEntry, type VerifyResult } from '../store/journal.js';
import { anchorProblems, type Head } from '../store/heads.js';
import { writeDurable } from '../store/files.js';
import { copyStore, migrateLegacy } from '../store/migrate-legacy.js';
import { migrateViaTemporaryFile } from '../store/migrate-file.js';
import { currentIdentity, openStore, type SlideStore } from '../store/store.js';
import { isPostgresAddress } from '../store/postgres/connection.js';
import { keepSlideCopy, slideCopiesDir } from '../store/slide-copies.js';
import { runExport, type ExportOptions } from './export.js';
import type { Output } from './output.js';
import { assertStoreIntact } from '../store/integrity.js';

/** Runs fn on the opened store and closes it. */
async function withStore<T>(config: Config, fn: (store: SlideStore) => Promise<T>, o: { migrating?: boolean; readOnly?: boolean } = {}): Promise<T> {
  const store = await openStore(config.store, currentIdentity(config.technicianName), o);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The longest `scan` waits for a file that keeps changing: 15 settle times (30 s by default). */
const scanWaitMs = (config: Config) => 15 * (config.images.settleSeconds ?? SETTLE_SECONDS) * 1000;

/** Reads every file in the incoming folder once (what the app's watcher does at start) and exits. */
export async function runScan(config: Config, out: Output): Promise<number> {
  await fs.mkdir(config.incoming, { recursive: true });
  return withStore(config, async (store) => {
    const copies = slideCopiesDir(storeFolder(config));
    // A file still being written is read again for a while (about settleSeconds each time, 10 times or 15 settle times in
    // all, whichever comes first), then left `changed`.
    const keep = (sha: string, bytes: Buffer) => keepSlideCopy(copies, sha, bytes);
    const watcher = new IncomingWatcher(config.incoming, store, config.images, { retryLimit: 10, giveUpAfterMs: scanWaitMs(config), live: false, keep });
    watcher.on('warning', (m) => out.info(`warning: ${m}`));
    watcher.start();
    await watcher.whenIdle();
    await watcher.stop();
    return printStatus(config, store, false, out);
  });
}

export function runStatus(config: Config, json: boolean, out: Output): Promise<number> {
  return withStore(config, (store) => printStatus(config, store, json, out), { readOnly: true });
}

const counts = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

async function printStatus(config: Config, store: SlideStore, json: boolean, out: Output): Promise<number> {
  const s = await store.summary();
  // Each rejected file by name, so that a technician can find and fix it (the app shows only a screenful).
  const rejectedFiles = (await store.rejectedFiles()).map((f) => ({ path: f.path, code: f.code, reason: f.reason }));
  if (json) {
    out.stdout(JSON.stringify({ incoming: config.incoming, store: config.store, ...s, rejectedFiles }));
    return 0;
  }
  out.stdout(`incoming ${config.incoming}`);
  out.stdout(
    `files: ${s.files.queued} queued, ${s.files.duplicate} duplicate, ${s.files.rejected} rejected${s.files.changed ? `, ${s.files.changed} still being written (read again later)` : ''}${s.files.gone ? `, ${s.files.gone} gone from the folder` : ''}`,
  );
  out.stdout(
    `slides: ${s.slides} (${s.labelled} labelled, ${s.unlabelled} to review)${s.goneSlides ? `; ${s.goneSlides} more gone from the folder (${s.goneLabelled} labelled: labels and history kept)` : ''}`,
  );
  if (Object.keys(s.byLabel).length) out.stdout(`labels: ${counts(s.byLabel)}`);
  if (Object.keys(s.rejections).length) out.stdout(`rejected: ${counts(s.rejections)}`);
  out.stdout(`journal: ${s.journalEntries} decisions`);
  // Whether a promoted model has finished scoring the slides to review (the app resumes where it stopped).
  const scored = Object.entries(s.toReviewScoredBy).filter(([, n]) => n > 0);
  if (scored.length) out.stdout(`scored of the ${s.unlabelled} to review: ${scored.map(([model, n]) => `${model} ${n}`).join(', ')}`);
  if (isPostgresAddress(config.store)) {
    const { clusterStatus } = await import('./cluster.js');
    const c = await clusterStatus(config);
    out.stdout(`jobs: ${c.waiting} waiting, ${c.active} being classified`);
    out.stdout(
      `engine hosts alive: ${c.hosts.length ? c.hosts.map((h) => `${h.host} (pid ${h.pid}, ${h.modelId}, ${h.jobsDone} done, seen ${Math.round(h.seenAgoMs / 1000)} s ago)`).join('; ') : 'none'}`,
    );
  }
  for (const f of rejectedFiles) out.stdout(`rejected ${JSON.stringify(f.path)}: ${f.code}: ${f.reason}`);
  return 0;
}

function reportVerify(what: string, result: VerifyResult, out: Output): number {
  if (result.ok) {
    out.stdout(`journal ${what}: ${result.entries} entries, all hashes and links verify`);
    return 0;
  }
  for (const p of result.problems) out.stdout(`PROBLEM ${p}`);
  out.error(`journal ${what} does not verify (${result.problems.length} problem(s))`);
  return 1;
}

/**
 * The store's journal, or (with `file`) an exported JSON-lines journal, checked outside any store; with
 * `anchor` (SEQ:HASH, from `audit anchor` kept by a notary), also that the journal still holds that entry.
 */
export async function runAuditVerify(config: Config, file: string | null, anchor: Head | null, out: Output): Promise<number> {
  const withAnchor = (result: VerifyResult, entries: JournalEntry[]): VerifyResult => {
    if (!anchor) return result;
    const bySeq = new Map(entries.map((e) => [e.seq, e.hash]));
    const problems = [...result.problems, ...anchorProblems(anchor, (seq) => bySeq.get(seq))];
    return { ...result, ok: problems.length === 0, problems };
  };
  if (file) {
    const result = await verifyExport(file);
    return reportVerify(file, withAnchor(result, anchor && result.entries ? (await readJournal(file)).entries : []), out);
  }
  return withStore(
    config,
    async (store) => {
      const code = reportVerify(`in ${config.store}`, withAnchor(await store.verifyJournal(), anchor ? await store.journalEntries() : []), out);
      // The queue's rank rows and counts are kept by the writes: they must match the tables they come from.
      const queue = await store.queueCheck();
      for (const p of queue) out.stdout(`PROBLEM queue: ${p}`);
      if (!queue.length) return code;
      out.error(`the queue's rank rows and counts in ${config.store} do not match its slides, files and predictions (${queue.length} problem(s)); the journal and labels are not affected`);
      return 1;
    },
    { readOnly: true },
  );
}

/** Prints the journal's head for a lab's own notary (a signed e-mail, syslog, a ticket). */
export async function runAuditAnchor(config: Config, out: Output): Promise<number> {
  return withStore(
    config,
    async (store) => {
      const result = await store.verifyJournal();
      if (!result.ok) return reportVerify(`in ${config.store}`, result, out);
      const head = await store.journalHead();
      out.stdout(`${head.seq}:${head.hash}`);
      out.info(
        `the journal of ${config.store} at ${new Date().toISOString()}: ${head.seq} entries, verified. Keep this line where the lab's records are kept; \`slidetriage audit verify --anchor ${head.seq}:${head.hash}\` checks the journal against it later`,
      );
      return 0;
    },
    { readOnly: true },
  );
}

/** Writes the journal as JSON lines (a new file), for an auditor to check with `audit verify --file`. */
export async function runAuditExport(config: Config, file: string, out: Output): Promise<number> {
  if (await fs.stat(file).catch(() => null)) {
    out.error(`${file} exists: name a new file`);
    return 2;
  }
  return withStore(
    config,
    async (store) => {
      await assertStoreIntact(store);
      const entries = await store.journalEntries();
      await writeDurable(file, journalLines(entries));
      out.info(`${entries.length} journal entries written to ${file}, closed by their head and count; \`slidetriage audit verify --file ${file}\` checks them`);
      return 0;
    },
    { readOnly: true },
  );
}

/** csv: one row per labelled slide. folders: <out>/<label>/<file>, the input `train` reads. */
export async function runExportCommand(config: Config, o: ExportOptions, out: Output): Promise<number> {
  return withStore(
    config,
    async (store) => {
      await assertStoreIntact(store);
      return runExport(config, await store.labelledSlides(), o, out);
    },
    { readOnly: true },
  );
}

export async function runStoreMigrate(config: Config, from: string, journal: string, out: Output): Promise<number> {
  const into = (store: SlideStore) => migrateInto(store, config, from, journal, out);
  if (isPostgresAddress(config.store)) await withStore(config, into, { migrating: true });
  else await migrateViaTemporaryFile(config.store, (tmp) => withStore({ ...config, store: tmp }, into, { migrating: true }));
  out.stdout(`the old files are untouched; the store is now ${config.store}`);
  return 0;
}

async function migrateInto(store: SlideStore, config: Config, from: string, journal: string, out: Output): Promise<void> {
  const r = await migrateLegacy(store, from, journal);
  out.stdout(`imported ${from} and ${journal} into ${config.store}: ${r.slides} slides, ${r.files} files, ${r.predictions} predictions, ${r.entries} journal entries (verified)`);
  for (const t of r.torn)
    out.stdout(`set aside: a torn piece of line ${t.line} of ${journal} (${t.text.length} characters, written when a crash cut it short; never acknowledged): kept in the store's set_aside table`);
}

/** Copies the configured store into an empty one at `to` (PostgreSQL), the journal verified on both sides. */
export async function runStoreCopy(config: Config, to: string, out: Output): Promise<number> {
  return withStore(config, async (from) => {
    const target = await openStore(to, currentIdentity(config.technicianName));
    try {
      const r = await copyStore(from, target);
      out.stdout(`copied ${from.location} into ${target.location}: ${r.slides} slides, ${r.files} files, ${r.predictions} predictions, ${r.entries} journal entries (verified on both sides)`);
      out.stdout(`set "store" to ${target.location} in the configuration of every host to use it; ${from.location} is untouched`);
      return 0;
    } finally {
      await target.close();
    }
  });
}

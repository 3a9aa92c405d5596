// Headless commands over the incoming folder and the label store: scan, status, export, audit verify.
import fs from 'node:fs/promises';
import type { Config } from '../config.js';
import { IncomingWatcher } from '../ingest/watcher.js';
import { verifyJournal } from '../store/journal.js';
import { currentIdentity, SlideStore } from '../store/store.js';
import { keepSlideCopy, slideCopiesDir } from '../store/slide-copies.js';
import { summarise } from '../store/summary.js';
import { runExport, type ExportOptions } from './export.js';
import type { Output } from './output.js';

async function openStore(config: Config): Promise<SlideStore> {
  return SlideStore.open(config.store, config.journal, currentIdentity(config.technicianName));
}

/** Reads every file in the incoming folder once (what the app's watcher does at start) and exits. */
export async function runScan(config: Config, out: Output): Promise<number> {
  await fs.mkdir(config.incoming, { recursive: true });
  const store = await openStore(config);
  const copies = slideCopiesDir(config.store);
  // A file still being written is read again for a while (about settleSeconds each time), then left `changed`.
  const watcher = new IncomingWatcher(config.incoming, store, config.images, { retryLimit: 10, keep: (sha, bytes) => keepSlideCopy(copies, sha, bytes) });
  watcher.on('warning', (m) => out.info(`warning: ${m}`));
  watcher.start();
  await watcher.whenIdle();
  await watcher.stop();
  return runStatus(config, false, out, store);
}

export async function runStatus(config: Config, json: boolean, out: Output, opened?: SlideStore): Promise<number> {
  const store = opened ?? (await openStore(config));
  const data = await store.read();
  const s = summarise(data);
  // Each rejected file by name, so that a technician can find and fix it (the app shows only a screenful).
  const rejectedFiles = Object.values(data.files)
    .filter((f) => f.state === 'rejected')
    .map((f) => ({ path: f.path, code: f.code, reason: f.reason }))
    .sort((a, b) => a.path.localeCompare(b.path));
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
  if (Object.keys(s.byLabel).length)
    out.stdout(
      `labels: ${Object.entries(s.byLabel)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  if (Object.keys(s.rejections).length)
    out.stdout(
      `rejected: ${Object.entries(s.rejections)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  out.stdout(`journal: ${s.journalEntries} decisions`);
  for (const f of rejectedFiles) out.stdout(`rejected ${JSON.stringify(f.path)}: ${f.code}: ${f.reason}`);
  return 0;
}

export async function runAuditVerify(config: Config, out: Output): Promise<number> {
  const store = await openStore(config);
  const head = (await store.read()).journalHead;
  const result = await verifyJournal(config.journal, head);
  if (result.ok) {
    out.stdout(`journal ${config.journal}: ${result.entries} entries, all hashes and links verify`);
    return 0;
  }
  for (const p of result.problems) out.stdout(`PROBLEM ${p}`);
  out.error(`journal ${config.journal} does not verify (${result.problems.length} problem(s))`);
  return 1;
}

/** csv: one row per labelled slide. folders: <out>/<label>/<file>, the input `train` reads. */
export async function runExportCommand(config: Config, o: ExportOptions, out: Output): Promise<number> {
  const store = await openStore(config);
  return runExport(config, await store.read(), o, out);
}

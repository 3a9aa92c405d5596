// Headless commands over the incoming folder and the label store: scan, status, export, audit verify.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { IncomingWatcher } from '../ingest/watcher.js';
import { verifyJournal } from '../store/journal.js';
import { currentLabel } from '../store/schema.js';
import { currentIdentity, SlideStore } from '../store/store.js';
import { summarise } from '../store/summary.js';
import type { Output } from './output.js';

async function openStore(config: Config): Promise<SlideStore> {
  return SlideStore.open(config.store, config.journal, currentIdentity(config.technicianName));
}

/** Reads every file in the incoming folder once (what the app's watcher does at start) and exits. */
export async function runScan(config: Config, out: Output): Promise<number> {
  await fs.mkdir(config.incoming, { recursive: true });
  const store = await openStore(config);
  const watcher = new IncomingWatcher(config.incoming, store, config.images);
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
  out.stdout(`files: ${s.files.queued} queued, ${s.files.duplicate} duplicate, ${s.files.rejected} rejected`);
  out.stdout(`slides: ${s.slides} (${s.labelled} labelled, ${s.unlabelled} to review)`);
  if (Object.keys(s.byLabel).length) out.stdout(`labels: ${Object.entries(s.byLabel).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (Object.keys(s.rejections).length) out.stdout(`rejected: ${Object.entries(s.rejections).map(([k, v]) => `${k} ${v}`).join(', ')}`);
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

const csv = (v: string | null | undefined) => {
  const s = v ?? '';
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** csv: one row per labelled slide. folders: <out>/<label>/<file>, the input `train` reads. */
export async function runExport(config: Config, format: string, outDir: string, out: Output): Promise<number> {
  if (format !== 'csv' && format !== 'folders') {
    out.error(`--format must be csv or folders, got "${format}"`);
    return 2;
  }
  const store = await openStore(config);
  const data = await store.read();
  const rows = Object.values(data.slides)
    .map((slide) => ({ slide, decision: currentLabel(data, slide.sha256) }))
    .filter((r) => r.decision);
  await fs.mkdir(outDir, { recursive: true });
  if (format === 'csv') {
    const lines = ['sha256,path,label,technician,display_name,decided_at,model,predicted,note'];
    for (const { slide, decision: d } of rows) lines.push([slide.sha256, slide.path, d!.label, d!.technician, d!.displayName, d!.at, d!.modelId, d!.predicted, d!.note].map(csv).join(','));
    const file = path.join(outDir, 'labels.csv');
    await fs.writeFile(file, lines.join('\n') + '\n');
    out.info(`${rows.length} labelled slides written to ${file}`);
    return 0;
  }
  let copied = 0;
  for (const { slide, decision } of rows) {
    const dir = path.join(outDir, decision!.label!);
    await fs.mkdir(dir, { recursive: true });
    const ext = path.extname(slide.path).toLowerCase();
    const target = path.join(dir, `${slide.sha256.slice(0, 16)}${ext}`);
    try {
      await fs.copyFile(path.join(config.incoming, slide.path), target);
      copied++;
    } catch (err) {
      out.info(`warning: ${slide.path} cannot be copied (${(err as NodeJS.ErrnoException).code}); it is labelled ${decision!.label} in the store`);
    }
  }
  out.info(`${copied} of ${rows.length} labelled slides copied into ${outDir}/<label>/`);
  return 0;
}

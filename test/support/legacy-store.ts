// An older slidetriage's store (store.json + audit.jsonl, as 0.1 wrote them), for the migration tests.
import fs from 'node:fs/promises';
import path from 'node:path';
import { entryHash, type JournalEntry } from '../../src/store/journal.js';
import { decisionOf, STORE_VERSION } from '../../src/store/schema.js';
import { shaOf } from './store.js';

/** n slides with files and a prediction each, and `decided` decisions (on slides 0, 1, …). */
export async function writeLegacyStore(dir: string, n: number, decided: number) {
  const file = path.join(dir, 'store.json');
  const journal = path.join(dir, 'audit.jsonl');
  const at = '2026-06-01T10:00:00.000Z';
  const data = {
    schemaVersion: STORE_VERSION,
    files: {} as Record<string, unknown>,
    slides: {} as Record<string, unknown>,
    predictions: {} as Record<string, unknown>,
    decisions: {} as Record<string, unknown[]>,
    journalHead: { seq: 0, hash: '' },
  };
  for (let i = 0; i < n; i++) {
    const sha256 = shaOf(i);
    data.slides[sha256] = { sha256, path: `s${i}.jpg`, width: 224, height: 224, addedAt: at };
    data.files[`s${i}.jpg`] = { path: `s${i}.jpg`, state: 'queued', sha256, duplicateOf: null, code: null, reason: null, size: 1000, mtimeMs: 1, seenAt: at };
    data.predictions[sha256] = [{ modelId: 'm@1', label: 'Pre', probabilities: { Pre: 0.5 + i / (2 * n), Pro: 0.5 - i / (2 * n) }, at, explanations: { gradcam: `overlays/${i}.png` } }];
  }
  const entries: JournalEntry[] = [];
  let prev = { seq: 0, hash: '' };
  for (let i = 0; i < decided; i++) {
    const body = {
      sha256: shaOf(i),
      action: 'correct' as const,
      predicted: 'Pre',
      probabilities: { Pre: 0.6, Pro: 0.4 },
      label: 'Pro',
      previousLabel: null,
      technician: 'ann',
      displayName: null,
      modelId: 'm@1',
      note: '',
      seq: prev.seq + 1,
      at,
      prevHash: prev.hash,
    };
    const entry = { ...body, hash: entryHash(body) };
    entries.push(entry);
    (data.decisions[entry.sha256] ??= []).push(decisionOf(entry));
    prev = { seq: entry.seq, hash: entry.hash };
  }
  data.journalHead = prev;
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(file, JSON.stringify(data));
  await fs.writeFile(journal, entries.map((e) => JSON.stringify(e) + '\n').join(''));
  return { file, journal, entries };
}

// Model versions: every retraining writes a bundle under the versions folder; `current.json` there names
// the promoted one (absent: the configured default). Promotions and rollbacks are appended to its
// history, never rewritten, and written durably like the label store.
import fs from 'node:fs/promises';
import path from 'node:path';
import { readManifest } from './bundle.js';
import { ensureDir, writeDurable } from '../store/files.js';
import type { Comparison } from './retrain/types.js';
import { currentModelDir, POINTER_FILE, readPointer, type Pointer } from './version-pointer.js';

export { currentModelDir, readPointer, type Pointer };

export interface VersionInfo {
  id: string;
  dir: string;
  name: string;
  created: string;
  /** 'default' for the configured model, 'shipped' for earlier models shipped beside it, else the retraining mode, or 'adapted' (adapt). */
  kind: 'default' | 'shipped' | 'head' | 'full' | 'adapted';
  parent: string | null;
  labels: number;
  heldOut: Comparison | null;
  base: Comparison | null;
  current: boolean;
}

async function describe(dir: string, kind: VersionInfo['kind'] | null, currentDir: string): Promise<VersionInfo | null> {
  const manifest = await readManifest(dir).catch(() => null);
  if (!manifest) return null;
  const training = manifest.training as { retrain?: { mode: 'head' | 'full'; parent: string; labels: unknown[] }; adapt?: { parent: string } } | null;
  // An adapted version records `adapt` and no `retrain` of its own (adapt/adapt.ts).
  const retrain = training?.adapt ? undefined : training?.retrain;
  const report = await fs
    .readFile(path.join(dir, 'retrain.json'), 'utf8')
    .then((s) => JSON.parse(s) as { heldOut: Comparison; base: Comparison })
    .catch(() => null);
  return {
    id: manifest.id,
    dir,
    name: manifest.name,
    created: manifest.created,
    kind: kind ?? (training?.adapt ? 'adapted' : (retrain?.mode ?? 'head')),
    parent: training?.adapt?.parent ?? retrain?.parent ?? null,
    labels: retrain?.labels.length ?? 0,
    heldOut: report?.heldOut ?? null,
    base: report?.base ?? null,
    current: path.resolve(dir) === path.resolve(currentDir),
  };
}

/** The default model first, then the other shipped models, then every version, newest first. */
export async function listVersions(versionsDir: string, defaultDir: string, shipped: string[] = []): Promise<VersionInfo[]> {
  const current = await currentModelDir(versionsDir, defaultDir);
  const out: VersionInfo[] = [];
  const def = await describe(defaultDir, 'default', current);
  if (def) out.push(def);
  for (const dir of shipped.filter((d) => path.resolve(d) !== path.resolve(defaultDir))) {
    const v = await describe(dir, 'shipped', current);
    if (v) out.push(v);
  }
  const entries = await fs.readdir(versionsDir, { withFileTypes: true }).catch(() => []);
  const dirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => path.join(versionsDir, e.name))
    .sort()
    .reverse();
  for (const dir of dirs) {
    const v = await describe(dir, null, current);
    if (v) out.push(v);
  }
  return out;
}

/** Makes `target` the current model (promote a new version, or roll back to an earlier one). */
export async function setCurrent(versionsDir: string, target: VersionInfo, action: 'promote' | 'rollback', by: string): Promise<Pointer> {
  await ensureDir(versionsDir);
  const previous = await readPointer(versionsDir);
  const pointer: Pointer = {
    id: target.id,
    dir: path.resolve(target.dir),
    history: [...(previous?.history ?? []), { action, id: target.id, dir: path.resolve(target.dir), at: new Date().toISOString(), by }],
  };
  await writeDurable(path.join(versionsDir, POINTER_FILE), JSON.stringify(pointer, null, 2) + '\n');
  return pointer;
}

/** Finds a version by id, id prefix or folder name. */
export function findVersion(versions: VersionInfo[], key: string): VersionInfo {
  const hits = versions.filter((v) => v.id === key || v.id.split('@')[1]?.startsWith(key) || path.basename(v.dir) === key || (key === 'default' && v.kind === 'default'));
  if (hits.length === 1) return hits[0];
  throw new Error(hits.length ? `"${key}" matches ${hits.length} versions: give more of the id` : `no model version "${key}" (see slidetriage models)`);
}

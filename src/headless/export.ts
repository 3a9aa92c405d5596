// `slidetriage export`: the confirmed labels as a CSV file, or as class folders that `train` reads. The
// images are the store's kept copies (or incoming files whose sha256 still matches): never whatever now
// sits under a slide's old name. Written with the store's permissions, into an empty folder unless forced.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { storeFolder } from '../config.js';
import { extensionFor } from '../ingest/image.js';
import { ensureDir, writePrivate } from '../store/files.js';
import type { Decision, Slide } from '../store/schema.js';
import type { LabelledSlide } from '../store/types.js';
import { readSlideBytes, slideCopiesDir } from '../store/slide-copies.js';
import type { Output } from './output.js';
import { csvField } from '../core/safe-text.js';
import { classNameProblem } from '../core/class-name.js';

/** The folder of a label under --out: one safe segment, and never outside it whatever the label says. */
function classFolder(outDir: string, label: string): string {
  const problem = classNameProblem(label);
  const dir = path.resolve(outDir, label);
  if (problem || path.dirname(dir) !== path.resolve(outDir)) throw new Error(`${problem ?? `label ${JSON.stringify(label)} leaves the folder`}, so it is not written under ${outDir}`);
  return dir;
}

export interface ExportOptions {
  format: string;
  outDir: string;
  /** Write into a folder that already holds files (same-named ones are replaced). */
  force: boolean;
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

export async function runExport(config: Config, rows: LabelledSlide[], o: ExportOptions, out: Output): Promise<number> {
  if (o.format !== 'csv' && o.format !== 'folders') {
    out.error(`--format must be csv or folders, got "${o.format}"`);
    return 2;
  }
  if (!o.force && !(await isEmptyOrMissing(o.outDir))) {
    out.error(`${o.outDir} is not empty: an export there would replace labels.csv and same-named images. Name an empty or new folder, or add --force to write into this one.`);
    return 2;
  }
  await ensureDir(o.outDir);
  if (o.format === 'csv') {
    const lines = ['sha256,path,label,technician,display_name,decided_at,model,predicted,note'];
    for (const { slide, decision: d } of rows) lines.push([slide.sha256, slide.path, d.label, d.technician, d.displayName, d.at, d.modelId, d.predicted, d.note].map(csvField).join(','));
    const file = path.join(o.outDir, 'labels.csv');
    await writePrivate(file, lines.join('\n') + '\n');
    out.info(`${rows.length} labelled slides written to ${file}`);
    return 0;
  }
  return exportFolders(config, rows, o.outDir, out);
}

/** <out>/<label>/<sha256 prefix>.<format>: the bytes the label was given to, verified by their sha256. */
async function exportFolders(config: Config, rows: Array<{ slide: Slide; decision: Decision }>, outDir: string, out: Output): Promise<number> {
  const copies = slideCopiesDir(storeFolder(config));
  let copied = 0;
  let refused = 0;
  for (const { slide, decision } of rows) {
    try {
      const dir = classFolder(outDir, decision.label!);
      await ensureDir(dir);
      const { bytes } = await readSlideBytes(copies, config.incoming, slide);
      await writePrivate(path.join(dir, `${slide.sha256.slice(0, 16)}.${extensionFor(bytes)}`), bytes);
      copied++;
    } catch (err) {
      refused++;
      out.error(`not exported: ${(err as Error).message}; it stays labelled ${decision.label} in the store`);
    }
  }
  out.info(`${copied} of ${rows.length} labelled slides copied into ${outDir}/<label>/${refused ? `; ${refused} refused (above)` : ''}`);
  return refused ? 1 : 0;
}

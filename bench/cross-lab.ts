// `npm run bench:cross-lab [-- --models DIR,DIR --tta --adapt --domains A,B] [--limit N] [--out FILE]`: how a model does
// on images of other labs it never saw (issue #39), with 0 labels. With --adapt, each domain is also scored
// after `adapt` (engine/adapt) on its own unlabelled images: adapted on one half (every other image), the
// current and the adapted model both scored on the other half. Domains, from ../shared/data:
// - taleqani-test: the home lab, the bundle split's test part (4-class and binary);
// - segmented: the same test images with the cells cut out on black (binary);
// - cnmc: C-NMC 2019 fold 0, single cells on black, another lab (binary, 20 images);
// - pbc: CellaVision DM96 normal cells, Barcelona (normal only: the share called malignant);
// - bccd-wbc: BCCD's white cells cut from their VOC boxes with a margin (normal only);
// - bccd-field: BCCD's whole 640 × 480 fields (normal only).
// Binary: malignant (every class but Benign/hem) against benign; the score is 1 − p(benign). Intervals are
// 95% Wilson intervals over images.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { EngineClient } from '../src/engine/client.js';
import { rocAuc } from '../src/engine/metrics.js';
import { decodeRgb, readImageFile, toModelInput, type RgbImage } from '../src/ingest/image.js';

const { values } = parseArgs({
  options: { models: { type: 'string' }, tta: { type: 'boolean' }, adapt: { type: 'boolean' }, domains: { type: 'string' }, limit: { type: 'string' }, out: { type: 'string' } },
});
const config = loadConfig({});
const data = path.resolve('../shared/data');
const models = (values.models ?? 'models/default').split(',').map((m) => path.resolve(m));
const limit = Number(values.limit ?? Infinity);
const limits = { ...config.images, extensions: ['jpg', 'jpeg', 'png', 'bmp', 'tif', 'tiff'] };

/** One image to score: how to get its pixels, and whether it is malignant (null: the 4-class label only). */
interface Item {
  name: string;
  malignant: boolean;
  label: string | null;
  rgb: () => Promise<RgbImage>;
  /** The image's file, where it is one (adapt reads files); crops have none. */
  file?: string;
}

const fromFile = (file: string) => async () => decodeRgb(await readImageFile(file, limits), limits);
const fileItem = (name: string, file: string, malignant: boolean, label: string | null = null): Item => ({ name, malignant, label, rgb: fromFile(file), file });
const listDir = async (dir: string) => (await fs.readdir(dir)).filter((f) => !f.startsWith('.')).sort();
/** Every k-th of a list, so that a limit still spans the whole set. */
const spread = <T>(xs: T[]) => (xs.length <= limit ? xs : xs.filter((_, i) => i % Math.ceil(xs.length / limit) === 0));

/** The split's test part that is the home lab's (a run with other labs' images in its data lists theirs too, as pbc-…). */
async function taleqani(root: string, modelDir: string): Promise<Item[]> {
  const split = JSON.parse(await fs.readFile(path.join(modelDir, 'split.json'), 'utf8')) as { test: string[] };
  return spread(split.test.filter((f) => !path.basename(f).startsWith('pbc-'))).map((f) => {
    const label = f.split('/')[0];
    return fileItem(f, path.join(root, f), label !== 'Benign', label);
  });
}

async function cnmc(): Promise<Item[]> {
  const root = path.join(data, 'cnmc-fold0');
  const kinds = ['all', 'hem'];
  return (await Promise.all(kinds.map(async (k) => (await listDir(path.join(root, k))).map((f) => fileItem(`${k}/${f}`, path.join(root, k, f), k === 'all'))))).flat();
}

/** PBC's images, less those the model trained or validated on (a run with PBC in its data names them `pbc-KIND-FILE`). */
async function pbc(modelDir: string): Promise<Item[]> {
  const root = path.join(data, 'pbc');
  const split = JSON.parse(await fs.readFile(path.join(modelDir, 'split.json'), 'utf8').catch(() => '{}')) as { train?: string[]; val?: string[] };
  const seen = new Set([...(split.train ?? []), ...(split.val ?? [])].map((f) => path.basename(f)));
  const kinds = (await listDir(root)).filter((k) => !k.includes('.'));
  const all = (await Promise.all(kinds.map(async (k) => (await listDir(path.join(root, k))).map((f) => fileItem(`${k}/${f}`, path.join(root, k, f), false)))))
    .flat()
    .filter((it) => !seen.has(`pbc-${it.name.replace('/', '-')}`));
  return spread(all);
}

/** The white cell nearest the field's centre in a segmented twin (non-black pixels), as [x, y]; null when it has none. */
function cellNearCentre(twin: RgbImage): [number, number] | null {
  let best: [number, number] | null = null;
  let bestD = Infinity;
  for (let y = 0; y < twin.height; y += 2)
    for (let x = 0; x < twin.width; x += 2) {
      const p = (y * twin.width + x) * 3;
      if (twin.data[p] + twin.data[p + 1] + twin.data[p + 2] < 60) continue;
      const d = (x - twin.width / 2) ** 2 + (y - twin.height / 2) ** 2;
      if (d < bestD) [best, bestD] = [[x, y], d];
    }
  return best;
}

/**
 * A synthetic other lab with both classes: each held-out Taleqani image cut to the white cell nearest its
 * centre at 2.5× (the magnification other labs use), its colour moved per channel and JPEG-compressed
 * again. It shares the zoom idea with the `zoom` augmentation, so it flatters models trained with it.
 */
async function synthetic(modelDir: string): Promise<Item[]> {
  return (await taleqani(path.join(data, 'taleqani'), modelDir)).map((it) => ({
    ...it,
    file: undefined,
    rgb: async () => {
      const field = await it.rgb();
      const twin = await fromFile(path.join(data, 'taleqani-segmented', it.name))().catch(() => null);
      const side = Math.round(Math.min(field.width, field.height) / 2.5);
      const [cx, cy] = (twin && cellNearCentre(twin)) ?? [field.width / 2, field.height / 2];
      const left = Math.round(Math.min(Math.max(cx - side / 2, 0), field.width - side));
      const top = Math.round(Math.min(Math.max(cy - side / 2, 0), field.height - side));
      const jpeg = await sharp(field.data, { raw: { width: field.width, height: field.height, channels: 3 } })
        .extract({ left, top, width: side, height: side })
        .resize(field.width, field.height, { kernel: 'cubic' })
        .linear([1.15, 0.8, 0.9], [-10, 25, 15])
        .jpeg({ quality: 70 })
        .toBuffer();
      const { data: pixels, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return { data: pixels, width: info.width, height: info.height };
    },
  }));
}

/** The WBC boxes of a VOC annotation. */
function wbcBoxes(xml: string): Array<[number, number, number, number]> {
  return [...xml.matchAll(/<object>([\s\S]*?)<\/object>/g)]
    .filter((m) => /<name>\s*WBC\s*<\/name>/.test(m[1]))
    .map((m) => ['xmin', 'ymin', 'xmax', 'ymax'].map((t) => Number(new RegExp(`<${t}>\\s*(-?\\d+)`).exec(m[1])![1])) as [number, number, number, number]);
}

function crop(image: RgbImage, [x0, y0, x1, y1]: [number, number, number, number]): RgbImage {
  // A square around the box, with a quarter of its side as margin, inside the field.
  const side = Math.min(Math.round(Math.max(x1 - x0, y1 - y0) * 1.5), image.width, image.height);
  const left = Math.min(Math.max(0, Math.round((x0 + x1 - side) / 2)), image.width - side);
  const top = Math.min(Math.max(0, Math.round((y0 + y1 - side) / 2)), image.height - side);
  const out = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++) image.data.copy(out, y * side * 3, ((top + y) * image.width + left) * 3, ((top + y) * image.width + left + side) * 3);
  return { data: out, width: side, height: side };
}

async function bccd(): Promise<{ fields: Item[]; cells: Item[] }> {
  const root = path.join(data, 'bccd');
  const files = (await listDir(path.join(root, 'images'))).filter((f) => f.endsWith('.jpg'));
  const fields: Item[] = [];
  const cells: Item[] = [];
  for (const f of spread(files)) {
    const image = fromFile(path.join(root, 'images', f));
    fields.push({ ...fileItem(f, path.join(root, 'images', f), false), rgb: image });
    const xml = await fs.readFile(path.join(root, 'annotations', f.replace(/\.jpg$/, '.xml')), 'utf8').catch(() => '');
    wbcBoxes(xml).forEach((box, i) => cells.push({ name: `${f}#${i}`, label: null, malignant: false, rgb: async () => crop(await image(), box) }));
  }
  return { fields, cells };
}

function wilson(k: number, n: number): string {
  if (!n) return '–';
  const z = 1.96;
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  const f = (v: number) => (v * 100).toFixed(1);
  return `${f(p)}% [${f(centre - half)}, ${f(centre + half)}]`;
}

interface Row {
  model: string;
  domain: string;
  n: number;
  binary: string;
  auc: number | null;
  calledMalignant: string;
  fourClass: string;
  flagged: string;
}

async function score(engine: EngineClient, classes: string[], size: number, items: Item[]): Promise<Omit<Row, 'model' | 'domain'>> {
  const benign = classes.findIndex((c) => /^(benign|hem)$/i.test(c));
  const malignantScore: number[] = [];
  let correctBinary = 0;
  let correct4 = 0;
  let n4 = 0;
  let flagged = 0;
  for (let i = 0; i < items.length; i += 16) {
    const chunk = items.slice(i, i + 16);
    const inputs = await Promise.all(chunk.map(async (it) => toModelInput(await it.rgb(), size, 'stretch')));
    const r = await engine.call('classify', { inputs, batch: 16, tta: !!values.tta });
    r.probabilities.forEach((p, j) => {
      const m = 1 - p[benign];
      malignantScore.push(m);
      const top = p.indexOf(Math.max(...p));
      if ((top !== benign) === chunk[j].malignant) correctBinary++;
      if (chunk[j].label) {
        n4++;
        if (classes[top] === chunk[j].label) correct4++;
      }
      if (r.ood[j]?.unusual) flagged++;
    });
  }
  const truth = items.map((it) => it.malignant);
  const both = truth.some((t) => t) && truth.some((t) => !t);
  const calledMalignant = both ? '' : wilson(items.length - correctBinary, items.length);
  return {
    n: items.length,
    binary: both ? wilson(correctBinary, items.length) : '',
    auc: both ? rocAuc(malignantScore, truth) : null,
    calledMalignant,
    fourClass: n4 ? wilson(correct4, n4) : '',
    flagged: wilson(flagged, items.length),
  };
}

/** The files of items (crops written out as PNG under `dir`), for adapt, which reads files. */
async function filesOf(items: Item[], dir: string): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  return Promise.all(
    items.map(async (it, i) => {
      if (it.file) return it.file;
      const { data: pixels, width, height } = await it.rgb();
      const file = path.join(dir, `${String(i).padStart(5, '0')}.png`);
      await sharp(pixels, { raw: { width, height, channels: 3 } })
        .png()
        .toFile(file);
      return file;
    }),
  );
}

/** The domain adapted to on every other image; the current and the adapted model scored on the rest. */
async function adaptRows(modelDir: string, info: { id: string; classes: string[]; inputSize: number }, domain: string, items: Item[]): Promise<Row[]> {
  const fit = items.filter((_, i) => i % 2 === 0);
  const held = items.filter((_, i) => i % 2 === 1);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'cross-lab-adapt-'));
  try {
    const result = await engine.call('adapt', {
      modelDir,
      outDir: path.join(work, 'adapted'),
      name: 'bench-adapted',
      files: await filesOf(fit, path.join(work, 'crops')),
      minSlides: 10, // C-NMC has 20 images: 10 to adapt on
      maxSlides: 400,
      colour: true,
      labelled: [],
      ...limits,
      resize: config.images.resize,
    });
    const colour = result.colour.applied ? 'colour aligned' : `colour not aligned: ${result.colour.note}`;
    const before = { model: info.id, domain: `${domain}, other half`, ...(await score(engine, info.classes, info.inputSize, held)) };
    await engine.call('load', { modelDir: path.join(work, 'adapted') });
    const after = { model: `${info.id} + adapt (${fit.length} images; ${colour})`, domain: `${domain}, other half`, ...(await score(engine, info.classes, info.inputSize, held)) };
    await engine.call('load', { modelDir });
    return [before, after];
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
const engine = new EngineClient();
await engine.call('init', { backend: 'wasm', threads: 0 });
const { fields, cells } = await bccd();
for (const modelDir of models) {
  const info = await engine.call('load', { modelDir });
  const domains: Record<string, Item[]> = {
    'taleqani-test': await taleqani(path.join(data, 'taleqani'), modelDir),
    segmented: await taleqani(path.join(data, 'taleqani-segmented'), modelDir),
    'synthetic-lab': await synthetic(modelDir),
    cnmc: await cnmc(),
    pbc: await pbc(modelDir),
    'bccd-wbc': cells,
    'bccd-field': fields,
  };
  const only = values.domains?.split(',');
  for (const [domain, items] of Object.entries(domains).filter(([d]) => !only || only.includes(d))) {
    const t0 = performance.now();
    rows.push({ model: info.id, domain, ...(await score(engine, info.classes, info.inputSize, items)) });
    if (values.adapt) rows.push(...(await adaptRows(modelDir, info, domain, items)));
    console.error(`${info.id} ${domain}: ${items.length} images in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
}
await engine.close();

const head = ['model', 'domain', 'n', 'binary accuracy', 'AUC', 'called malignant (normal only)', '4-class', 'flagged unusual'];
const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
for (const r of rows) lines.push(`| ${[r.model, r.domain, r.n, r.binary, r.auc === null ? '' : r.auc.toFixed(4), r.calledMalignant, r.fourClass, r.flagged].join(' | ')} |`);
console.log(`0 labels, ${values.tta ? '8-view' : 'single-view'} predictions; intervals: 95% Wilson over images\n`);
console.log(lines.join('\n'));
if (values.out) await fs.writeFile(values.out, JSON.stringify(rows, null, 1) + '\n');

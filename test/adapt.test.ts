// `slidetriage adapt` (issue #39): the colour map folded into the input layer is the map itself; a lab
// whose colour is shifted is repaired, its slides stop being flagged in bulk while photos stay flagged;
// too few slides are refused; the version it makes is promoted and rolled back like a retrain's.
// The repair test reads held-out Taleqani images from ../shared and skips where they are absent.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/config.js';
import { loadBundle } from '../src/engine/bundle.js';
import { foldColourAlignment, inputNormalization, type ColourStats } from '../src/engine/adapt/colour.js';
import { fewerMalignant } from '../src/engine/adapt/adapt.js';
import { FIXTURES, makeBundle, relativeError, tempDir } from './helpers.js';

const run = promisify(execFile);
const BIN = path.join(PACKAGE_ROOT, 'bin', 'slidetriage.js');
const MODEL = path.join(PACKAGE_ROOT, 'models', 'default');
const DATA = path.resolve(PACKAGE_ROOT, '..', 'shared', 'data', 'taleqani');
const PHOTOS = path.resolve(PACKAGE_ROOT, '..', 'shared', 'weights', 'photos');
const hasData = fs.existsSync(DATA) && fs.existsSync(PHOTOS);
if (!hasData) console.info(`adapt repair test skipped: ${DATA} or ${PHOTOS} is absent (the Taleqani images are not in the repository)`);

const cli = (cwd: string, args: string[]) => run(process.execPath, [BIN, ...args], { cwd, maxBuffer: 1 << 26 });

interface Row {
  path: string;
  label: string;
  ood: { unusual: boolean } | null;
}
const rowsOf = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

describe('the colour map folded into the input layer', () => {
  it('gives what the model gives on the mapped image', async () => {
    const dir = await tempDir();
    await makeBundle(dir, { size: 32 });
    const bundle = await loadBundle(dir);
    const trained = inputNormalization(bundle.model)!;
    const reference: ColourStats = { mean: [0.8, 0.85, 0.92], std: [0.15, 0.14, 0.06], blackShare: 0 };
    const lab: ColourStats = { mean: [0.6, 0.5, 0.7], std: [0.2, 0.18, 0.1], blackShare: 0 };
    // The stem's output: an untrained model's softmax hardly moves with its input.
    const stem = tf.model({ inputs: bundle.model.inputs, outputs: bundle.model.getLayer('stem_conv').output as tf.SymbolicTensor });
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 7);
    const mapped = tf.tidy(() =>
      x
        .sub(lab.mean)
        .mul(tf.tensor1d(reference.std.map((s, c) => s / lab.std[c])))
        .add(reference.mean),
    );
    const expected = (stem.predict(mapped) as tf.Tensor).dataSync();
    const unfolded = (stem.predict(x) as tf.Tensor).dataSync();
    foldColourAlignment(bundle.model, trained, reference, lab, tf);
    const folded = (stem.predict(x) as tf.Tensor).dataSync();
    expect(relativeError(unfolded, expected)).toBeGreaterThan(0.1); // the map matters
    expect(relativeError(folded, expected)).toBeLessThan(1e-4);
  });
});

describe('the warning when adapt moves calls towards benign', () => {
  const view = (malignant: number) => ({ n: 100, flagged: 0, calledMalignant: malignant, calls: {} });
  it('is given past 10 points fewer malignant calls, since without labels a repair and missed blasts look alike', () => {
    expect(fewerMalignant(view(35), view(6))).toMatch(/29 points fewer .* malignant: right if they are normal, missed blasts if not/);
    expect(fewerMalignant(view(35), view(26))).toBeNull();
    expect(fewerMalignant(view(10), view(40))).toBeNull();
  });
});

describe('adapt on too few slides, and its version', () => {
  it('refuses a folder with too few slides, by name of the minimum', async () => {
    const cwd = await tempDir();
    const err = await cli(cwd, ['adapt', '-q', '--images', path.join(FIXTURES, 'cnmc', 'all')]).catch((e: { code: number; stderr: string }) => e);
    expect('code' in err && err.code).toBe(1);
    expect((err as { stderr: string }).stderr).toMatch(/adapting needs at least 40 of the lab's own slides/);
    expect(fs.existsSync(path.join(cwd, 'models', 'versions'))).toBe(false);
  });

  it('makes a version that keeps the classes, is promoted, and rolled back to the model it came from', async () => {
    const cwd = await tempDir();
    const { stdout } = await cli(cwd, ['adapt', '-q', '--json', '--min-slides', '10', '--images', path.join(FIXTURES, 'cnmc')]);
    const result = JSON.parse(stdout) as { id: string; outDir: string; parent: string; colour: { applied: boolean; note: string }; slides: { read: number } };
    expect(result.slides.read).toBeGreaterThanOrEqual(20);
    // C-NMC cells are cut out on black: the colour is left alone, and says why.
    expect(result.colour.applied).toBe(false);
    expect(result.colour.note).toMatch(/black/);
    const adapted = JSON.parse(fs.readFileSync(path.join(result.outDir, 'manifest.json'), 'utf8')) as { spec: { classes: string[] }; ood: { n: number } | null };
    const parent = JSON.parse(fs.readFileSync(path.join(MODEL, 'manifest.json'), 'utf8')) as { id: string; spec: { classes: string[] }; ood: { n: number } };
    expect(result.parent).toBe(parent.id);
    expect(adapted.spec.classes).toEqual(parent.spec.classes);
    expect(adapted.ood!.n).toBeGreaterThan(parent.ood.n); // the lab's slides joined the bank
    await cli(cwd, ['models', 'promote', path.basename(result.outDir)]);
    expect((await cli(cwd, ['models', 'list'])).stdout).toMatch(new RegExp(`\\* .*${result.id.replace(/[@.]/g, '.')}`));
    await cli(cwd, ['models', 'rollback', parent.id]);
    const list = (await cli(cwd, ['models', 'list'])).stdout;
    expect(list).toMatch(new RegExp(`\\* .*${parent.id.replace(/[@.]/g, '.')}`));
  });
});

/** A lamp and stain unlike the home lab's: each channel scaled and shifted. */
async function shifted(file: string, out: string): Promise<void> {
  await sharp(file).linear([1.3, 0.5, 0.6], [-40, 60, 60]).png().toFile(out);
}

describe.skipIf(!hasData)('adapt on a lab whose colour is shifted', () => {
  it('repairs the shifted slides, stops flagging them in bulk, and still flags photos', async () => {
    const cwd = await tempDir();
    const split = JSON.parse(fs.readFileSync(path.join(MODEL, 'split.json'), 'utf8')) as { test: string[] };
    const picks = split.test.filter((_, i) => i % 7 === 0);
    const lab = path.join(cwd, 'lab');
    fs.mkdirSync(lab);
    await Promise.all(picks.map((f) => shifted(path.join(DATA, f), path.join(lab, `${f.replace('/', '__')}.png`))));
    const truth = (r: Row) => path.basename(r.path).split('__')[0];
    const accuracy = (rows: Row[]) => rows.filter((r) => r.label === truth(r)).length / rows.length;
    const before = rowsOf((await cli(cwd, ['predict', '--json', '-q', '--set', 'predict.tta=false', lab])).stdout);
    const { stdout } = await cli(cwd, ['adapt', '-q', '--json', '--images', lab]);
    const result = JSON.parse(stdout) as { outDir: string; colour: { applied: boolean }; before: { flagged: number; n: number }; after: { flagged: number; n: number } };
    expect(result.colour.applied).toBe(true);
    const after = rowsOf((await cli(cwd, ['predict', '--json', '-q', '--set', 'predict.tta=false', '--model', result.outDir, lab])).stdout);
    expect(accuracy(before)).toBeLessThan(0.75); // the shift does harm (measured: 63%)
    expect(accuracy(after)).toBeGreaterThan(0.93);
    expect(accuracy(after) - accuracy(before)).toBeGreaterThan(0.15);
    expect(result.before.flagged / result.before.n).toBeGreaterThan(0.4);
    expect(result.after.flagged / result.after.n).toBeLessThan(0.2);
    const photos = rowsOf((await cli(cwd, ['predict', '--json', '-q', '--model', result.outDir, PHOTOS])).stdout);
    expect(photos.length).toBeGreaterThan(2);
    expect(photos.every((r) => r.ood?.unusual)).toBe(true);
  });
});

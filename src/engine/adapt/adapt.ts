// `adapt`: a model version made for one lab from its own unlabelled slides (issue #39). Two steps:
// 1. the lab's colour is mapped onto the training images' colour, folded into the input layer (colour.ts);
// 2. the out-of-distribution index learns the lab: half of its slides join the bank of known images, and
//    the other half show how many the new version still flags (the threshold stays the model's own, so a
//    picture that is not blood stays as far from the bank as before).
// The weights that decide are not touched: re-estimating the head's statistics on a lab's slides moved
// normal-only slides towards malignant (AdaBN, docs/benchmarks/cross-lab), so the decision is left alone.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { loadBundle, saveBundle, type LoadedBundle } from '../bundle.js';
import { prepareImage } from '../../ingest/image.js';
import { writePrivate } from '../../store/files.js';
import { compare, negativeOf, type RetrainHooks } from '../retrain/retrain.js';
import { BLACK_SHARE_LIMIT, colourStats, foldColourAlignment, inputNormalization, type ColourStats, type InputNormalization } from './colour.js';
import { labPasses, labView } from './lab-passes.js';
import { withLabInBank } from './lab-ood.js';
import { AdaptRefusedError, type AdaptRequest, type AdaptResult, type LabView } from './types.js';

const colourSchema = z.object({ mean: z.tuple([z.number(), z.number(), z.number()]), std: z.tuple([z.number(), z.number(), z.number()]), blackShare: z.number() });

/** The training images' colour, as `train` records it (null for a model trained before it did). */
export function colourReference(bundle: LoadedBundle): ColourStats | null {
  const parsed = colourSchema.safeParse(bundle.manifest.training?.colourReference);
  return parsed.success ? parsed.data : null;
}

/** The parent's training record without its own retrain or adapt step (the new version's step is adapt). */
function trainingOf(parent: LoadedBundle): Record<string, unknown> {
  const { retrain, adapt, ...rest } = parent.manifest.training ?? {};
  return { ...rest, ...(retrain ? { retrainedBefore: retrain } : {}), ...(adapt ? { adaptedBefore: (adapt as { parent?: string }).parent } : {}) };
}

/** Points of the lab's slides that may move from malignant to benign calls before adapt says so. */
const BENIGN_SHIFT_POINTS = 10;

/**
 * A warning when the adapted model calls many fewer of the lab's slides malignant. On a lab of normal
 * cells that is the repair (PBC 35% → 5.5%); on a lab with blasts imaged at another magnification it was
 * blasts called benign (the synthetic lab, 45.8% → 36.6% right, docs/retraining.md): the same numbers, so
 * adapt cannot tell them apart without labels, and says so.
 */
export function fewerMalignant(before: LabView, after: LabView): string | null {
  if (before.calledMalignant === null || after.calledMalignant === null || !before.n) return null;
  const drop = ((before.calledMalignant - after.calledMalignant) / before.n) * 100;
  if (drop <= BENIGN_SHIFT_POINTS) return null;
  return `the adapted model calls ${Math.round(drop)} points fewer of the lab's slides malignant: right if they are normal, missed blasts if not; confirm a few malignant and normal slides and compare before promoting`;
}

/** Every k-th of a list so that at most `max` are taken, spread over the whole list. */
const spread = <T>(xs: T[], max: number) => (xs.length <= max ? xs : xs.filter((_, i) => i % Math.ceil(xs.length / max) === 0));

async function readLab(req: AdaptRequest, size: number, hooks: RetrainHooks): Promise<{ inputs: Float32Array[]; unreadable: string[] }> {
  const files = spread(req.files, req.maxSlides);
  const inputs: Float32Array[] = [];
  const unreadable: string[] = [];
  for (const [i, file] of files.entries()) {
    if (i % 16 === 0) await hooks.checkpoint();
    try {
      inputs.push((await prepareImage(file, { extensions: req.extensions, maxPixels: req.maxPixels, maxBytes: Number.MAX_SAFE_INTEGER }, size, req.resize)).input);
    } catch (err) {
      unreadable.push(`${path.basename(file)}: ${(err as Error).message.split('\n')[0]}`);
    }
    hooks.progress(i + 1, files.length, `reading the lab's slides ${i + 1}/${files.length}`);
  }
  return { inputs, unreadable };
}

function refuseFew(n: number, min: number, what: string): void {
  if (n < min)
    throw new AdaptRefusedError(
      `${what} ${n} slide(s); adapting needs at least ${min} of the lab's own slides to learn its colour and its look (add slides to the incoming folder, or name a folder with --images)`,
    );
}

const normalizationSchema = z.object({ mean: z.array(z.number()), variance: z.array(z.number()) });

/** The input layer as trained: an adapted model records it, since its own layer holds a lab's map. */
function trainedNormalization(bundle: LoadedBundle): InputNormalization | null {
  const recorded = normalizationSchema.safeParse((bundle.manifest.training?.adapt as { normalization?: unknown } | undefined)?.normalization);
  return recorded.success ? recorded.data : inputNormalization(bundle.model);
}

type ColourStep = Omit<AdaptResult['colour'], 'lab'> & { normalization: InputNormalization | null };

/** The colour step: applied, or why not. */
function colourStep(req: AdaptRequest, adapted: LoadedBundle, lab: ColourStats): ColourStep {
  const reference = colourReference(adapted);
  const normalization = trainedNormalization(adapted);
  const not = (note: string): ColourStep => ({ applied: false, note, reference, normalization });
  if (!req.colour) return not('colour alignment not asked for');
  if (!reference) return not('the model does not record its training images’ colour');
  if (!normalization) return not('the model has no input normalisation to fold the colour into');
  if (lab.blackShare > BLACK_SHARE_LIMIT) return not(`${Math.round(lab.blackShare * 100)}% of the lab’s pixels are black (cells cut out): colour left as it is`);
  foldColourAlignment(adapted.model, normalization, reference, lab, tf);
  return { applied: true, note: null, reference, normalization };
}

export async function adapt(req: AdaptRequest, hooks: RetrainHooks): Promise<AdaptResult> {
  const t0 = Date.now();
  refuseFew(req.files.length, req.minSlides, 'the lab has');
  const parent = await loadBundle(req.modelDir);
  const adapted = await loadBundle(req.modelDir);
  try {
    const { classes, inputSize } = parent.manifest.spec;
    const { inputs, unreadable } = await readLab(req, inputSize, hooks);
    refuseFew(inputs.length, req.minSlides, `only ${unreadable.length ? 'readable: ' : ''}`);
    const fit = inputs.filter((_, i) => i % 2 === 0);
    const check = inputs.filter((_, i) => i % 2 === 1);
    const negative = negativeOf(classes);
    hooks.progress(0, 1, 'the current model on the lab’s slides');
    const before = labView(classes, negative, await labPasses(parent, await hooks.ort(parent), check, hooks.checkpoint), parent.ood ?? null);
    const lab = colourStats(fit);
    const { normalization, ...colourResult } = colourStep(req, adapted, lab);
    hooks.progress(0, 1, 'the adapted model on the lab’s slides');
    const ort = await hooks.ort(adapted);
    const fitted = await labPasses(adapted, ort, fit, hooks.checkpoint);
    const checked = await labPasses(adapted, ort, check, hooks.checkpoint);
    await ort?.dispose();
    const ood = parent.ood ? withLabInBank(parent.ood, fitted.pooled, checked.pooled) : null;
    const after = labView(classes, negative, checked, ood);
    const labelled = req.labelled.filter((l) => classes.includes(l.label));
    const heldOut = await compare(parent, adapted.model, classes, labelled, req, hooks, 'confirmed labels of the lab');
    const manifest = await saveBundle(adapted.model, req.outDir, {
      name: req.name,
      spec: parent.manifest.spec,
      resize: parent.manifest.preprocessing.resize,
      float16: parent.manifest.weightsDtype === 'float16',
      training: { ...trainingOf(parent), adapt: { parent: parent.manifest.id, slides: inputs.length, normalization, colour: { ...colourResult, lab }, before, after } },
      // The parent's held-out figures were measured on its own lab's images in its own colour: not this
      // version's. They are kept apart, so that no screen shows them as the adapted model's.
      metrics: { parent: { id: parent.manifest.id, metrics: parent.manifest.metrics } },
      ood,
    });
    const result: AdaptResult = {
      id: manifest.id,
      outDir: req.outDir,
      parent: parent.manifest.id,
      seconds: (Date.now() - t0) / 1000,
      slides: { read: inputs.length, unreadable, fitted: fit.length, checked: check.length },
      colour: { ...colourResult, lab },
      before,
      after,
      heldOut,
      warning: fewerMalignant(before, after),
    };
    await writePrivate(path.join(req.outDir, 'adapt.json'), JSON.stringify(result, null, 1) + '\n');
    return result;
  } finally {
    parent.model.dispose();
    adapted.model.dispose();
  }
}

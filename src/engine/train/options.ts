// What `slidetriage train` takes, checked once at the edge and passed to the engine worker as is.
import { z } from 'zod';
import { VARIANT_NAMES, type Variant } from '../models/efficientnet.js';
import { ARCHITECTURES } from '../models/architectures.js';
import { headSchema, PAPER_HEAD } from '../models/head.js';

export const trainOptionsSchema = z
  .object({
    dataDir: z.string().min(1),
    outDir: z.string().min(1),
    name: z.string().min(1),
    architecture: z.enum(ARCHITECTURES),
    /** EfficientNet variant (ignored by the other architectures). */
    variant: z.enum(VARIANT_NAMES as [Variant, ...Variant[]]),
    /** Use only the first N files (by number) of each class: small benchmark runs. */
    limitPerClass: z.number().int().positive().nullable(),
    imgSize: z.number().int().min(32).max(1024),
    /** 0 trains nothing: the --init model is corrected, evaluated on the split and saved as a bundle. */
    epochs: z.number().int().min(0).max(1000),
    batch: z.number().int().min(1).max(1024),
    /** Images per forward/backward pass; gradients are accumulated up to `batch` (memory bound on wasm). */
    microBatch: z.number().int().min(1).max(1024),
    /**
     * Threads computing micro-batch gradients (data-parallel): tfjs-wasm uses one core per instance in
     * Node, so 2 on a 2-core machine nearly halves the time of a step. Needs batch / microBatch ≥ workers.
     */
    workers: z.number().int().min(1).max(64),
    lr: z.number().positive().max(1),
    /** constant; plateau halves it every 2 epochs without a better val loss; cosine decays it per step to 0 at the last epoch. */
    lrSchedule: z.enum(['constant', 'plateau', 'cosine']),
    /** Steps over which the learning rate climbs linearly to `lr` (0: none). */
    warmupSteps: z.number().int().min(0),
    /**
     * Batch-norm moving-average momentum while training. Keras's 0.99 suits fine-tuning pretrained
     * weights; from scratch the moving statistics then trail the weights for epochs and the
     * validation figures (and early stopping) read a model that does not exist yet — 0.9 follows them.
     */
    bnMomentum: z.number().min(0).max(0.9999),
    /**
     * batch: batch norm uses each micro-batch's statistics while training (the usual). frozen: it uses
     * its moving statistics, re-estimated first on `recalibrateBatches` batches of training images —
     * for fine-tuning at a resolution where only micro-batches of 4–8 fit in memory.
     */
    batchNorm: z.enum(['batch', 'frozen']),
    recalibrateBatches: z.number().int().min(0),
    /**
     * Stochastic weight averaging: from this epoch on (1-based; 0 = off) the weights at the end of each
     * epoch join a running mean, and validation, early stopping and the saved model use that mean.
     */
    averageFrom: z.number().int().min(0),
    /** Divide the class weights back out of the output at the end (see prior-correction.ts). */
    priorCorrection: z.boolean(),
    /** Build the out-of-distribution index at the end (ood/), when the validation part is large enough. */
    ood: z.boolean(),
    patience: z.number().int().min(1),
    valSplit: z.number().min(0).max(0.9),
    testSplit: z.number().min(0).max(0.9),
    split: z.string().regex(/^(blocks|stratified|file:.+)$/, 'blocks, stratified or file:PATH'),
    blockSize: z.number().int().min(1),
    seed: z.number().int(),
    resume: z.boolean(),
    /** Bundles to start from; several are averaged (see init-from.ts). */
    init: z.array(z.string().min(1)),
    augment: z
      .object({
        flips: z.boolean(),
        rot90: z.boolean(),
        colorJitter: z.number().min(0).max(0.5),
        /** Share of training images whose surroundings are swapped for another's (background-swap.ts); needs cellMasks. */
        backgroundSwap: z.number().min(0).max(1).optional(),
        /** Against another lab's look (domain-augment.ts): stain jitter's amount, and the shares zoomed on a cell, put on black, blurred. */
        stain: z.number().min(0).max(1).optional(),
        zoom: z.number().min(0).max(1).optional(),
        black: z.number().min(0).max(1).optional(),
        blur: z.number().min(0).max(1).optional(),
      })
      .strict(),
    /** Segmented twins of the images (same relative names, cells on black), for the background swap. */
    cellMasks: z.string().min(1).nullable(),
    /**
     * Weight of the localisation penalty (mask-penalty.ts): the share of the 14 × 14 map's activity that
     * lies outside the training image's cells, added to the loss. Needs cellMasks; 0: none.
     */
    maskPenalty: z.number().min(0),
    head: headSchema,
    preprocessing: z.enum(['imagenet', 'tf', 'none']),
    float16: z.boolean(),
    /**
     * Where the training steps run: ONNX Runtime's exported training graph (forward, loss and backward in
     * one session run, every core), or TensorFlow.js; auto takes ONNX Runtime when the model exports.
     */
    engine: z.enum(['auto', 'ort', 'tfjs']),
    /** Where validation and the final evaluation run: ONNX Runtime when it takes the model (auto), or tfjs. */
    evalRuntime: z.enum(['auto', 'onnx', 'tfjs']),
    /** Benign class for the binary malignant-vs-benign figures, when the classes have one. */
    negativeClass: z.string().nullable(),
    /**
     * The classes in this order, each with its output, whether or not it has images (a retrain keeps the
     * model's classes when the labels name a few of them); null: the data folder's class folders.
     */
    classes: z.array(z.string().min(1)).nullable(),
    checkpointMinutes: z.number().min(0.05),
    extensions: z.array(z.string()),
    maxPixels: z.number().int().positive(),
    resize: z.enum(['stretch', 'letterbox']),
    /** Stop after this many optimizer steps in total (tests use it to interrupt a run). */
    maxSteps: z.number().int().positive().nullable(),
    command: z.string(),
    backend: z.string(),
  })
  .strict()
  .refine((o) => o.epochs > 0 || o.init.length > 0, { message: '--epochs 0 needs --init (a model to evaluate)', path: ['epochs'] })
  .refine((o) => !(o.augment.backgroundSwap || o.augment.zoom || o.augment.black) || o.cellMasks, {
    message: 'background=… needs --cell-masks DIR (the segmented twins), and so do zoom=… and black=…',
    path: ['augment'],
  })
  .refine((o) => !o.maskPenalty || o.cellMasks, { message: '--mask-penalty needs --cell-masks DIR (the segmented twins)', path: ['maskPenalty'] });
export type TrainOptions = z.infer<typeof trainOptionsSchema>;

export const TRAIN_DEFAULTS: Omit<TrainOptions, 'dataDir' | 'outDir' | 'command' | 'backend' | 'extensions' | 'maxPixels' | 'resize'> = {
  name: 'slidetriage',
  architecture: 'efficientnet',
  variant: 'b0',
  limitPerClass: null,
  imgSize: 224,
  epochs: 30,
  batch: 32,
  microBatch: 8,
  workers: 1,
  lr: 0.001,
  lrSchedule: 'constant',
  warmupSteps: 0,
  bnMomentum: 0.99,
  batchNorm: 'batch',
  recalibrateBatches: 50,
  averageFrom: 0,
  priorCorrection: true,
  ood: true,
  patience: 5,
  valSplit: 0.25,
  testSplit: 0,
  split: 'blocks',
  blockSize: 20,
  seed: 42,
  resume: false,
  init: [],
  augment: { flips: true, rot90: true, colorJitter: 0.1 },
  cellMasks: null,
  maskPenalty: 0,
  head: PAPER_HEAD,
  preprocessing: 'imagenet',
  float16: false,
  engine: 'auto',
  evalRuntime: 'auto',
  negativeClass: null,
  classes: null,
  checkpointMinutes: 10,
  maxSteps: null,
};

export interface TrainProgress {
  phase: 'loading' | 'training' | 'evaluating' | 'saving';
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number | null;
  accuracy: number | null;
  imagesPerSecond: number | null;
  etaSeconds: number | null;
  learningRate: number;
  message: string;
}

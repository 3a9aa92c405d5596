// One interface for every explanation method, as pytorch-grad-cam's methods share a base class: each
// method is a small module that turns (model, image, target class, options) into a heatmap at the input
// resolution with its metadata.
import * as tf from '@tensorflow/tfjs';

export interface ExplainInput {
  model: tf.LayersModel;
  classes: string[];
  /** size × size × 3 floats in [0,1]. */
  image: Float32Array;
  size: number;
  /** Index of the class to explain. */
  target: number;
  /** A faster forward pass when the engine has one (ONNX Runtime): probabilities of n packed images. */
  forward?: (batch: Float32Array, n: number) => Promise<Float32Array>;
  /** The image's `top_activation` map (NHWC, batch 1) from the faster runtime. */
  featureMap?: () => Promise<{ data: Float32Array; dims: number[] }>;
  /** ∂(class score)/∂input of n packed images and their class scores (logits), from the faster runtime. */
  inputGradients?: (batch: Float32Array, n: number, target: number) => Promise<{ grads: Float32Array; scores: Float32Array }>;
  /** The image's map at a stage of `side` px and ∂(class score)/∂map (NHWC, batch 1), from the faster runtime; null: not there. */
  stageGradient?: (side: number, target: number) => Promise<{ map: Float32Array; gradient: Float32Array; dims: number[] } | null>;
}

export interface ExplainHooks {
  progress?(done: number, total: number): void;
  /** Lets a cancel request in; throws to stop. */
  checkpoint?(): Promise<void>;
}

export interface Heatmap {
  method: string;
  size: number;
  /** size × size values in [0,1]: 1 is most relevant to the target class. */
  values: Float32Array;
  target: number;
  targetLabel: string;
  params: Record<string, unknown>;
  /** Method-specific figures (IG's completeness gap, LIME's fit). */
  diagnostics: Record<string, number>;
  ms: number;
}

export interface ExplanationMethod<O extends object = Record<string, unknown>> {
  readonly name: string;
  readonly defaults: O;
  /** Raw relevance per pixel (any scale; higher is more relevant) and diagnostics. */
  compute(input: ExplainInput, options: O, hooks: ExplainHooks): Promise<{ map: Float32Array; diagnostics?: Record<string, number> }>;
}

/** Min–max scaling to [0,1]; a constant map becomes all zeros. */
export function normalise(map: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of map) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Float32Array(map.length);
  if (!(hi > lo)) return out;
  for (let i = 0; i < map.length; i++) out[i] = (map[i] - lo) / (hi - lo);
  return out;
}

/** Runs a method with its defaults filled in, times it and normalises its map. */
export async function explain<O extends object>(method: ExplanationMethod<O>, input: ExplainInput, options: Partial<O> = {}, hooks: ExplainHooks = {}): Promise<Heatmap> {
  if (input.target < 0 || input.target >= input.classes.length) throw new Error(`target class ${input.target} is not one of the ${input.classes.length} classes`);
  if (input.image.length !== input.size * input.size * 3) throw new Error(`the image has ${input.image.length} values, not ${input.size}×${input.size}×3`);
  const params = { ...method.defaults, ...options } as O;
  const t0 = performance.now();
  const { map, diagnostics } = await method.compute(input, params, hooks);
  return {
    method: method.name,
    size: input.size,
    values: normalise(map),
    target: input.target,
    targetLabel: input.classes[input.target],
    params: params as Record<string, unknown>,
    diagnostics: diagnostics ?? {},
    ms: performance.now() - t0,
  };
}

/** Bilinear upsampling of an h × w map to size × size. */
export function upsample(map: tf.Tensor2D, size: number): Float32Array {
  const [h, w] = map.shape;
  return upsampleValues(map.dataSync() as Float32Array, h, w, size);
}

/**
 * Bilinear upsampling of h × w values to size × size, as tf.image.resizeBilinear with half-pixel centres
 * computes it (its CPU kernel, step for step): tfjs-wasm took 20 ms for a 28 → 224 map, this takes 1.
 */
export function upsampleValues(values: Float32Array, h: number, w: number, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const source = (i: number, ratio: number, last: number) => {
    const frac = (i + 0.5) * ratio - 0.5;
    const low = Math.max(0, Math.floor(frac));
    return { low, high: Math.min(last, Math.ceil(frac)), t: frac - low };
  };
  const cols = Array.from({ length: size }, (_, x) => source(x, w / size, w - 1));
  for (let y = 0; y < size; y++) {
    const r = source(y, h / size, h - 1);
    const top = r.low * w;
    const bottom = r.high * w;
    for (let x = 0; x < size; x++) {
      const c = cols[x];
      const upper = values[top + c.low] + (values[top + c.high] - values[top + c.low]) * c.t;
      const lower = values[bottom + c.low] + (values[bottom + c.high] - values[bottom + c.low]) * c.t;
      out[y * size + x] = upper + (lower - upper) * r.t;
    }
  }
  return out;
}

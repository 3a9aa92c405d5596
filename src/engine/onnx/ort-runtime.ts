// Forward passes on ONNX Runtime: the exported graph of a bundle, CPU with the configured threads, or
// CUDA when its provider is installed. TensorFlow.js keeps the gradients and training.
import * as ort from 'onnxruntime-node';
import { ONNX_FEATURES, ONNX_INPUT, ONNX_INPUT_GRAD, ONNX_LOGITS, ONNX_LOGITS_GRAD, ONNX_OUTPUT } from './export.js';
import { stageGradOutput, stageOutput } from './export-types.js';

export type OrtProvider = 'cpu' | 'cuda';

/** A stage's feature map and the gradient reaching it, NHWC with batch 1. */
export interface StageMap {
  map: Float32Array;
  gradient: Float32Array;
  dims: number[];
}

export interface OrtSessionOptions {
  /** Intra-op threads; 0 lets ONNX Runtime choose (one per core). */
  threads: number;
  provider: OrtProvider;
}

export interface OrtOutputs {
  probabilities: Float32Array;
  /** NHWC feature map of `top_activation`, when asked for and exported. */
  features?: { data: Float32Array; dims: number[] };
}

/** The session options every ONNX Runtime session of the engine uses (bench:engine's bare run too). */
export function sessionOptions(opts: OrtSessionOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: opts.provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
    ...(opts.threads > 0 ? { intraOpNumThreads: opts.threads } : {}),
    interOpNumThreads: 1,
  };
}

export class OrtModel {
  /** Runs not yet finished: a session released under one, or a thread ended with one in flight, can
   *  take the process down (ONNX Runtime's callback then throws into a torn-down environment). */
  private readonly inFlight = new Set<Promise<unknown>>();
  private released = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputSize: number,
    readonly provider: OrtProvider,
  ) {}

  static async create(model: Uint8Array | string, inputSize: number, opts: OrtSessionOptions): Promise<OrtModel> {
    const options = sessionOptions(opts);
    const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
    return new OrtModel(session, inputSize, opts.provider);
  }

  get hasFeatures(): boolean {
    return this.session.outputNames.includes(ONNX_FEATURES);
  }

  /** n images, NHWC floats in [0,1]; features only when `withFeatures` (they cost a copy). */
  async run(batch: Float32Array, n: number, withFeatures = false): Promise<OrtOutputs> {
    const s = this.inputSize;
    if (batch.length !== n * s * s * 3) throw new Error(`expected ${n} × ${s}×${s}×3 inputs, got ${batch.length} values`);
    const input = new ort.Tensor('float32', batch, [n, s, s, 3]);
    const fetches = withFeatures && this.hasFeatures ? [ONNX_OUTPUT, ONNX_FEATURES] : [ONNX_OUTPUT];
    const result = await this.tracked(() => this.session.run({ [ONNX_INPUT]: input }, fetches));
    const probs = result[ONNX_OUTPUT];
    const out: OrtOutputs = { probabilities: new Float32Array(probs.data as Float32Array) };
    if (fetches.length > 1) {
      const f = result[ONNX_FEATURES];
      out.features = { data: new Float32Array(f.data as Float32Array), dims: f.dims.map(Number) };
    }
    for (const t of Object.values(result)) t.dispose();
    input.dispose();
    return out;
  }

  /**
   * On a gradient graph: ∂score/∂input (NHWC) of n images, the score being seed · logits per image
   * (seed: n × units), and the logits themselves.
   */
  async runGradient(batch: Float32Array, n: number, seed: Float32Array): Promise<{ inputGrad: Float32Array; logits: Float32Array }> {
    const s = this.inputSize;
    const units = seed.length / n;
    const feeds = {
      [ONNX_INPUT]: new ort.Tensor('float32', batch, [n, s, s, 3]),
      [ONNX_LOGITS_GRAD]: new ort.Tensor('float32', seed, [n, units]),
    };
    const result = await this.tracked(() => this.session.run(feeds, [ONNX_INPUT_GRAD, ONNX_LOGITS]));
    const out = { inputGrad: new Float32Array(result[ONNX_INPUT_GRAD].data as Float32Array), logits: new Float32Array(result[ONNX_LOGITS].data as Float32Array) };
    for (const t of [...Object.values(result), ...Object.values(feeds)]) t.dispose();
    return out;
  }

  /** The sides of the stage maps this gradient graph gives (export.ts addStageOutputs). */
  get stageSides(): number[] {
    return this.session.outputNames.filter((n) => /^stage_\d+$/.test(n)).map((n) => Number(n.slice('stage_'.length)));
  }

  /**
   * On a gradient graph, one image: each stage map (NHWC, batch 1) and the gradient of seed · logits that
   * reaches it, from one forward and backward pass.
   */
  async runStages(image: Float32Array, seed: Float32Array): Promise<Map<number, StageMap>> {
    const s = this.inputSize;
    const sides = this.stageSides;
    const feeds = { [ONNX_INPUT]: new ort.Tensor('float32', image, [1, s, s, 3]), [ONNX_LOGITS_GRAD]: new ort.Tensor('float32', seed, [1, seed.length]) };
    const fetches = sides.flatMap((side) => [stageOutput(side), stageGradOutput(side)]);
    const result = await this.tracked(() => this.session.run(feeds, fetches));
    const out = new Map<number, StageMap>();
    for (const side of sides) {
      const a = result[stageOutput(side)];
      out.set(side, { map: new Float32Array(a.data as Float32Array), gradient: new Float32Array(result[stageGradOutput(side)].data as Float32Array), dims: a.dims.map(Number) });
    }
    for (const t of [...Object.values(result), ...Object.values(feeds)]) t.dispose();
    return out;
  }

  /** Starts a run unless the session is released (a run on a released session fails inside ONNX
   *  Runtime's own timer), and keeps it until it ends. */
  private tracked<T>(start: () => Promise<T>): Promise<T> {
    if (this.released) return Promise.reject(new Error('this ONNX Runtime session was released'));
    const run = start();
    this.inFlight.add(run);
    const done = () => this.inFlight.delete(run);
    run.then(done, done);
    return run;
  }

  /** Releases the session once the runs in flight have finished. */
  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.allSettled([...this.inFlight]);
    await this.session.release();
  }
}

/** Whether ONNX Runtime's CUDA provider is installed next to the CPU one. */
export function cudaAvailable(): boolean {
  return ort.listSupportedBackends().some((b) => b.name === 'cuda' && b.bundled !== false);
}

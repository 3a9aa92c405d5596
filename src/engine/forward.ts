// Who runs the forward passes of the loaded bundle: ONNX Runtime on its exported graph when it can,
// TensorFlow.js otherwise. Gradients (Grad-CAM's head, IG) and training stay on TensorFlow.js.
import type { OnnxProviderChoice, RuntimeChoice } from '../config.js';
import type { LoadedBundle } from './bundle.js';
import { graphForBundle, type GraphKind } from './onnx/bundle-graph.js';
import { cudaAvailable, OrtModel, type OrtProvider } from './onnx/ort-runtime.js';
import { toClassProbabilities } from './models/head.js';
import type { ExplainInput } from './explain/types.js';

interface Settings {
  runtime: RuntimeChoice;
  provider: OnnxProviderChoice;
  threads: number;
}

export class ForwardRunner {
  private settings: Settings = { runtime: 'auto', provider: 'auto', threads: 0 };
  private ort: OrtModel | null = null;
  private classes = 0;
  private bundle: LoadedBundle | null = null;
  /** The input-gradient graph: made on first use; null after it could not be (tfjs does IG then). */
  private grad: Promise<OrtModel | null> | null = null;

  constructor(private readonly warn: (message: string) => void) {}

  configure(settings: Settings): void {
    this.settings = settings;
  }

  /** A session on the graph exported from the bundle's verified weights (never from a file beside them). */
  private async open(bundle: LoadedBundle, kind: GraphKind = 'forward'): Promise<OrtModel> {
    return OrtModel.create(graphForBundle(bundle, kind).bytes, bundle.manifest.spec.inputSize, this.sessionSettings());
  }

  /** Session settings as `attach` would use them (bench:engine). */
  sessionSettings(): { threads: number; provider: OrtProvider } {
    return { threads: this.settings.threads, provider: this.settings.provider === 'auto' ? (cudaAvailable() ? 'cuda' : 'cpu') : this.settings.provider };
  }

  get active(): boolean {
    return this.ort !== null;
  }

  /** Prepares ONNX Runtime for a newly loaded bundle; returns the runtime's name, or null for tfjs. */
  async attach(bundle: LoadedBundle): Promise<string | null> {
    await this.dispose();
    if (this.settings.runtime === 'tfjs') return null;
    const { provider } = this.sessionSettings();
    this.bundle = bundle;
    try {
      this.ort = await this.open(bundle);
      this.classes = bundle.manifest.spec.classes.length;
      return `onnxruntime-${provider}`;
    } catch (err) {
      if (this.settings.runtime === 'onnx') throw new Error(`ONNX Runtime cannot run ${bundle.dir}: ${(err as Error).message}`);
      this.warn(`ONNX Runtime is not used (${(err as Error).message.split('\n')[0]}); forward passes run on TensorFlow.js`);
      return null;
    }
  }

  /** A separate ONNX Runtime session for another bundle's forward graph (retraining's features); null under runtime 'tfjs' or when it cannot be made. */
  async ortFor(bundle: LoadedBundle): Promise<OrtModel | null> {
    if (this.settings.runtime === 'tfjs') return null;
    try {
      return await this.open(bundle);
    } catch (err) {
      this.warn(`features come from TensorFlow.js: ${(err as Error).message.split('\n')[0]}`);
      return null;
    }
  }

  /** Per-class probabilities of n packed images, row-major. */
  async probabilities(batch: Float32Array, n: number): Promise<Float32Array> {
    return (await this.withFeatures(batch, n, false)).probabilities;
  }

  /** Probabilities and, when asked for and the graph has it, the last feature map from the same pass. */
  async withFeatures(batch: Float32Array, n: number, features = true): Promise<{ probabilities: Float32Array; features: { data: Float32Array; dims: number[] } | null }> {
    const out = await this.ort!.run(batch, n, features);
    const rows = toClassProbabilities(out.probabilities, n, this.classes);
    const flat = new Float32Array(n * this.classes);
    rows.forEach((r, i) => flat.set(r, i * this.classes));
    return { probabilities: flat, features: out.features ?? null };
  }

  private gradientModel(): Promise<OrtModel | null> {
    const bundle = this.bundle;
    if (!bundle) return Promise.resolve(null);
    this.grad ??= (async () => {
      try {
        return await this.open(bundle, 'gradient');
      } catch (err) {
        this.warn(`Integrated Gradients runs on TensorFlow.js: ${(err as Error).message.split('\n')[0]}`);
        return null;
      }
    })();
    return this.grad;
  }

  /** The fast paths the explanation methods take when they are given (LIME's samples, feature maps, IG). */
  async explainHelpers(image: Float32Array, withGradients = true): Promise<FastPaths> {
    const ort = this.ort;
    if (!ort) return {};
    const grad = withGradients ? await this.gradientModel() : null;
    const units = this.bundle!.model.outputs[0].shape[1] as number;
    return {
      inputGradients: grad ? gradientsOn(grad, units) : undefined,
      stageGradient: grad?.stageSides.length ? stagesOn(grad, image, units) : undefined,
      forward: (batch, n) => this.probabilities(batch, n),
      featureMap: ort.hasFeatures
        ? async () => {
            const out = await ort.run(image, 1, true);
            return out.features!;
          }
        : undefined,
    };
  }

  async dispose(): Promise<void> {
    await this.ort?.dispose();
    this.ort = null;
    const grad = await this.grad;
    await grad?.dispose();
    this.grad = null;
    this.bundle = null;
  }
}

/** The explanation methods' fast paths on ONNX Runtime. */
export type FastPaths = Pick<ExplainInput, 'forward' | 'featureMap' | 'inputGradients' | 'stageGradient'>;

/** The seed that makes a gradient graph's score the target class's (±z for a single sigmoid unit). */
function seedFor(units: number, target: number): Float32Array {
  const seed = new Float32Array(units);
  seed[units === 1 ? 0 : target] = units === 1 ? (target === 1 ? 1 : -1) : 1;
  return seed;
}

/** One image's stage maps and their gradients for a class: one run of the gradient graph per class, shared by every map of it. */
export function stagesOn(model: OrtModel, image: Float32Array, units: number): NonNullable<ExplainInput['stageGradient']> {
  const runs = new Map<number, ReturnType<OrtModel['runStages']>>();
  return async (side, target) => {
    if (!runs.has(target)) runs.set(target, model.runStages(image, seedFor(units, target)));
    return (await runs.get(target)!).get(side) ?? null;
  };
}

/**
 * ∂(class score)/∂input of n packed images on a gradient graph, and the class scores: the logit of the
 * target class, or ±z for a single sigmoid unit (as explain/head.ts scores classes).
 */
export function gradientsOn(model: OrtModel, units: number): NonNullable<ExplainInput['inputGradients']> {
  return async (batch, n, target) => {
    const one = seedFor(units, target);
    const seed = new Float32Array(n * units);
    for (let i = 0; i < n; i++) seed.set(one, i * units);
    const { inputGrad, logits } = await model.runGradient(batch, n, seed);
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) scores[i] = units === 1 ? (target === 1 ? logits[i] : -logits[i]) : logits[i * units + target];
    return { grads: inputGrad, scores };
  };
}

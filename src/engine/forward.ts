// Who runs the forward passes of the loaded bundle: ONNX Runtime on its exported graph when it can,
// TensorFlow.js otherwise. Gradients (Grad-CAM's head, IG) and training stay on TensorFlow.js.
import type { OnnxProviderChoice, RuntimeChoice } from '../config.js';
import type { LoadedBundle } from './bundle.js';
import { onnxForBundle } from './onnx/cache.js';
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

  constructor(private readonly warn: (message: string) => void) {}

  configure(settings: Settings): void {
    this.settings = settings;
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
    await this.ort?.dispose();
    this.ort = null;
    if (this.settings.runtime === 'tfjs') return null;
    const provider: OrtProvider = this.settings.provider === 'auto' ? (cudaAvailable() ? 'cuda' : 'cpu') : this.settings.provider;
    try {
      const onnx = await onnxForBundle(bundle);
      if (onnx.warning) this.warn(onnx.warning);
      this.ort = await OrtModel.create(onnx.file ?? onnx.bytes!, bundle.manifest.spec.inputSize, { threads: this.settings.threads, provider });
      this.classes = bundle.manifest.spec.classes.length;
      return `onnxruntime-${provider}`;
    } catch (err) {
      if (this.settings.runtime === 'onnx') throw new Error(`ONNX Runtime cannot run ${bundle.dir}: ${(err as Error).message}`);
      this.warn(`ONNX Runtime is not used (${(err as Error).message.split('\n')[0]}); forward passes run on TensorFlow.js`);
      return null;
    }
  }

  /** Per-class probabilities of n packed images, row-major. */
  async probabilities(batch: Float32Array, n: number): Promise<Float32Array> {
    const { probabilities } = await this.ort!.run(batch, n);
    const rows = toClassProbabilities(probabilities, n, this.classes);
    const flat = new Float32Array(n * this.classes);
    rows.forEach((r, i) => flat.set(r, i * this.classes));
    return flat;
  }

  /** The fast paths the explanation methods take when they are given (LIME's samples, feature maps). */
  explainHelpers(image: Float32Array): Pick<ExplainInput, 'forward' | 'featureMap'> {
    const ort = this.ort;
    if (!ort) return {};
    return {
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
  }
}

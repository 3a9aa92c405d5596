// What the exporter knows while it walks the layers: the ONNX value of every tfjs tensor, who consumes
// what (for batch norm folding), and the backward pass, built after the forward one as one step per
// layer run in reverse order, each turning the gradient of its output into gradients of its inputs
// (summed where a tensor fans out).
import type * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from './graph-builder.js';
import { inputsOf } from './export-ops.js';
import { ExportError, ONNX_LOGITS_GRAD, weightGradName, weightInputName, type BatchStats, type Cfg, type DropoutMask, type TrainingExport, type Value } from './export-types.js';

/** One layer as its converter sees it. */
export interface LayerInput {
  layer: tf.layers.Layer;
  cls: string;
  cfg: Cfg;
  name: string;
  inTensors: tf.SymbolicTensor[];
  ins: Value[];
  outId: number;
  /** The output shape without the batch dimension. */
  outShape: number[];
  /** Registers this layer's backward step (only when a gradient graph is asked for). */
  grad(run: (gy: string) => void): void;
}

export class ExportContext {
  readonly g = new GraphBuilder();
  readonly values = new Map<number, Value>();
  readonly consumers = new Map<number, tf.layers.Layer[]>();
  /** Layers already folded into the one before them (batch norm into a convolution). */
  readonly skip = new Set<tf.layers.Layer>();
  folded = 0;
  /** The output layer's pre-activation (the gradient graph's `logits`) and its width. */
  logits: { name: string; units: number; activation: string } | null = null;
  /** The gradient at the output layer's pre-activation: the input `logits_grad`, or on a training graph the loss's. */
  seed: string = ONNX_LOGITS_GRAD;
  readonly back: Array<{ outId: number; run(gy: string): void }> = [];
  private readonly grads = new Map<number, string[]>();
  /** Training graph: the tensors a trainable weight lies behind (only their gradients are computed). */
  private readonly behindTrainable = new Set<number>();
  /** Training graph: the scalar terms of the loss besides the cross-entropy (regularisers). */
  readonly lossTerms: string[] = [];
  private readonly scalars = new Set<string>();
  /** Training graph in batch-statistics mode: each batch norm's mean and variance outputs. */
  readonly batchStats: BatchStats[] = [];
  /** Training graph: the dropout masks it takes as inputs. */
  readonly dropoutMasks: DropoutMask[] = [];
  /** Training graph: the trainable weights whose gradient is an output already. */
  readonly gradOutputs = new Set<number>();

  constructor(
    model: tf.LayersModel,
    readonly fold: boolean,
    readonly wantGrad: boolean,
    readonly training: TrainingExport | null = null,
  ) {
    for (const layer of model.layers) {
      for (const t of inputsOf(layer)) this.consumers.set(t.id, [...(this.consumers.get(t.id) ?? []), layer]);
      const trains = layer.weights.some((w) => this.trainableIndex(w) >= 0) || inputsOf(layer).some((t) => this.behindTrainable.has(t.id));
      if (trains) this.behindTrainable.add((layer.output as tf.SymbolicTensor).id);
    }
    this.outputTensor = model.outputs[0] as tf.SymbolicTensor;
  }

  private trainableIndex(w: tf.LayerVariable): number {
    return this.training ? this.training.trainable.indexOf(w) : -1;
  }

  /**
   * A layer's weight in the graph: a constant, or on a training graph where it trains, the graph input
   * `weight_k` in tfjs's layout ([kh, kw, cin, cout] kernels), with k for its gradient output.
   */
  param(layer: tf.layers.Layer, suffix: string): { k: number; name: string } | null {
    const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`) || v.name.endsWith(`/${suffix}`));
    const k = w ? this.trainableIndex(w) : -1;
    if (k < 0) return null;
    return { k, name: this.g.input(weightInputName(k), w!.shape as number[]) };
  }

  /** A scalar graph input (the loss's scales), declared on first use. */
  scalarInput(name: string): string {
    if (!this.scalars.has(name)) this.g.input(name, []);
    this.scalars.add(name);
    return name;
  }

  /** The gradient of trainable weight k (already in tfjs's layout) as the graph output `grad_k`. */
  weightGrad(k: number, grad: string): void {
    this.gradOutputs.add(k);
    this.g.output(grad, weightGradName(k), this.training!.trainable[k].shape as number[]);
  }

  readonly outputTensor: tf.SymbolicTensor;

  get(t: tf.SymbolicTensor): Value {
    const v = this.values.get(t.id);
    if (!v) throw new ExportError(`no ONNX value for tensor ${t.name}`);
    return v;
  }

  /** Whether the backward pass needs this tensor's gradient (always, but on a training graph). */
  needsGrad(t: tf.SymbolicTensor): boolean {
    return !this.training || this.behindTrainable.has(t.id);
  }

  addGrad(t: tf.SymbolicTensor, name: string): void {
    if (!this.needsGrad(t)) return;
    this.grads.set(t.id, [...(this.grads.get(t.id) ?? []), name]);
  }

  /** The gradient reaching tensor `id`, its parts summed into one. */
  gradOf(id: number, base: string): string | null {
    const parts = this.grads.get(id);
    if (!parts?.length) return null;
    const total = parts.length === 1 ? parts[0] : this.g.op('Sum', parts, `${base}_grad_sum`);
    this.grads.set(id, [total]);
    return total;
  }

  noGrad(layer: tf.layers.Layer): () => never {
    return () => {
      throw new ExportError(`layer ${layer.name} (${layer.getClassName()}) has no gradient in the ONNX exporter`);
    };
  }

  /** ∂|x|/∂x as TensorFlow.js takes it: 1 where x > 0, else −1 (also at 0, where a bias starts), so
   *  that an L1 term moves the weights as the tfjs trainer does. */
  absGrad(x: string, base: string): string {
    const g = this.g;
    return g.op('Where', [g.op('Greater', [x, this.constant(`${base}_zero`, 0)], `${base}_positive`), this.constant(`${base}_plus`, 1), this.constant(`${base}_minus`, -1)], `${base}_abs_grad`);
  }

  constant(base: string, v: number): string {
    return this.g.floats(base, Float32Array.of(v), []);
  }

  /** Applies pending zero padding (for consumers that cannot take it as pads); on a gradient graph only for
   *  a consumer that crops its input's gradient back (`gradientCropped`, the pools: pooling-grad.ts). */
  materialize(v: Value, base: string, gradientCropped = false): Value {
    if (!v.pad) return v;
    if (this.wantGrad && !gradientCropped) throw new ExportError(`${base}: no gradient through zero padding that is not a convolution's or a pool's`);
    const [t, b, l, r] = v.pad;
    const pads = this.g.int64s(`${base}_pads`, [0, 0, t, l, 0, 0, b, r]);
    return { name: this.g.op('Pad', [v.name, pads], `${base}_pad`, { mode: { string: 'constant' } }), layout: v.layout, shape: v.shape };
  }

  /** A layer ready for its converter. */
  layerInput(layer: tf.layers.Layer): LayerInput {
    const inTensors = inputsOf(layer);
    const outId = (layer.output as tf.SymbolicTensor).id;
    return {
      layer,
      cls: layer.getClassName(),
      cfg: layer.getConfig() as Cfg,
      name: layer.name,
      inTensors,
      ins: inTensors.map((t) => this.get(t)),
      outId,
      outShape: (layer.outputShape as number[]).slice(1) as number[],
      grad: (run) => {
        if (this.wantGrad) this.back.push({ outId, run });
      },
    };
  }
}

// What the exporter knows while it walks the layers: the ONNX value of every tfjs tensor, who consumes
// what (for batch norm folding), and the backward pass, built after the forward one as one step per
// layer run in reverse order, each turning the gradient of its output into gradients of its inputs
// (summed where a tensor fans out).
import type * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from './graph-builder.js';
import { inputsOf } from './export-ops.js';
import { ExportError, type Cfg, type Value } from './export-types.js';

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
  logits: { name: string; units: number } | null = null;
  readonly back: Array<{ outId: number; run(gy: string): void }> = [];
  private readonly grads = new Map<number, string[]>();

  constructor(
    model: tf.LayersModel,
    readonly fold: boolean,
    readonly wantGrad: boolean,
  ) {
    for (const layer of model.layers) {
      for (const t of inputsOf(layer)) this.consumers.set(t.id, [...(this.consumers.get(t.id) ?? []), layer]);
    }
    this.outputTensor = model.outputs[0] as tf.SymbolicTensor;
  }

  readonly outputTensor: tf.SymbolicTensor;

  get(t: tf.SymbolicTensor): Value {
    const v = this.values.get(t.id);
    if (!v) throw new ExportError(`no ONNX value for tensor ${t.name}`);
    return v;
  }

  addGrad(t: tf.SymbolicTensor, name: string): void {
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

  constant(base: string, v: number): string {
    return this.g.floats(base, Float32Array.of(v), []);
  }

  /** Applies pending zero padding (for consumers that cannot take it as pads). */
  materialize(v: Value, base: string): Value {
    if (!v.pad) return v;
    if (this.wantGrad) throw new ExportError(`${base}: no gradient through zero padding that is not a convolution's`);
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

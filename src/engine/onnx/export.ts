// Exports a TensorFlow.js layers model (EfficientNet with its head, and the baselines) to ONNX.
// TensorFlow.js computes in NHWC; ONNX's Conv wants NCHW. The graph transposes the input once, runs
// every layer in NCHW, and transposes the last feature map back for the second output, so that both
// outputs read exactly like the tfjs model's. Batch norm after a linear convolution is folded into
// the convolution's weights; zero padding before a 'valid' convolution becomes the convolution's pads.
// Each layer class has a small converter (converters/); this file walks the layers and adds the outputs.
import type * as tf from '@tensorflow/tfjs';
import { FEATURE_LAYER } from '../models/spec.js';
import { CONVERTERS } from './converters/index.js';
import { ExportContext } from './export-context.js';
import { addTrainingLoss, finishTrainingOutputs } from './export-training.js';
import { addMaskPenalty } from './export-mask-penalty.js';
import {
  EXPORTER_VERSION,
  ExportError,
  ONNX_FEATURES,
  ONNX_INPUT_GRAD,
  ONNX_LOGITS,
  ONNX_LOGITS_GRAD,
  ONNX_OUTPUT,
  STAGE_STRIDES,
  stageGradOutput,
  stageOutput,
  type ExportOptions,
  type ExportResult,
} from './export-types.js';
import { cutTensor } from '../explain/layer-split.js';

export {
  EXPORTER_VERSION,
  ExportError,
  ONNX_FEATURES,
  ONNX_INPUT,
  ONNX_INPUT_GRAD,
  ONNX_LOGITS,
  ONNX_LOGITS_GRAD,
  ONNX_OUTPUT,
  type ExportOptions,
  type ExportResult,
  type TrainingExport,
} from './export-types.js';

export function exportToOnnx(model: tf.LayersModel, opts: ExportOptions = {}): ExportResult {
  const training = opts.training ?? null;
  const ctx = new ExportContext(model, !training && (opts.foldBatchNorm ?? true), !!training || (opts.gradient ?? false), training);
  for (const layer of model.layers) {
    if (ctx.skip.has(layer)) continue;
    const input = ctx.layerInput(layer);
    const convert = CONVERTERS[input.cls];
    if (!convert) throw new ExportError(`layer ${input.name} (${input.cls}) has no ONNX conversion`);
    const out = convert(ctx, input);
    if (out) ctx.values.set(input.outId, out);
  }
  const outputs = [ONNX_OUTPUT];
  const main = ctx.values.get((model.outputs[0] as tf.SymbolicTensor).id);
  if (!main || main.layout !== 'flat') throw new ExportError('the model output is not a [batch, classes] tensor');
  ctx.g.output(main.name, ONNX_OUTPUT, ['batch', main.shape[0]]);
  if (training) outputs.push(...addTrainingOutputs(ctx, model));
  else if (ctx.wantGrad) outputs.push(...addGradientOutputs(ctx, model));
  else outputs.push(...addFeatureOutput(ctx, model, opts.featureLayer ?? FEATURE_LAYER));
  const bytes = ctx.g.encode(model.name, { exporter_version: String(EXPORTER_VERSION), ...opts.metadata }, String(EXPORTER_VERSION));
  return { bytes, outputs, nodes: ctx.g.nodes.length, foldedBatchNorms: ctx.folded, dropoutMasks: ctx.dropoutMasks, batchStats: ctx.batchStats };
}

/** Each layer's backward step, last layer first, where a gradient reached its output. */
function runBackward(ctx: ExportContext): void {
  for (const step of [...ctx.back].reverse()) {
    const gy = ctx.gradOf(step.outId, `t${step.outId}`);
    if (gy) step.run(gy);
  }
}

/** The loss, and every trainable weight's gradient (export-training.ts). */
function addTrainingOutputs(ctx: ExportContext, model: tf.LayersModel): string[] {
  const [crossEntropy] = addTrainingLoss(ctx);
  if (ctx.training?.maskPenaltySide) addMaskPenalty(ctx, model, ctx.training.maskPenaltySide);
  runBackward(ctx);
  return finishTrainingOutputs(ctx, crossEntropy);
}

/** Runs the backward steps from the seed at the output layer's pre-activation to the input. */
function addGradientOutputs(ctx: ExportContext, model: tf.LayersModel): string[] {
  const { g, logits } = ctx;
  if (!logits) throw new ExportError('the output layer is not a Dense layer: no logits to differentiate');
  g.input(ONNX_LOGITS_GRAD, ['batch', logits.units]);
  // The seed enters at the output layer's pre-activation, whatever gradient reaches its output.
  ctx.addGrad(ctx.outputTensor, ONNX_LOGITS_GRAD);
  runBackward(ctx);
  const inputLayer = model.layers.find((l) => l.getClassName() === 'InputLayer')!;
  const gIn = ctx.gradOf((inputLayer.output as tf.SymbolicTensor).id, 'input');
  if (!gIn) throw new ExportError('the input gets no gradient');
  g.output(g.op('Transpose', [gIn], 'input_grad_nhwc', { perm: { ints: [0, 2, 3, 1] } }), ONNX_INPUT_GRAD, ['batch', ...(inputLayer.outputShape as number[]).slice(1)]);
  g.output(logits.name, ONNX_LOGITS, ['batch', logits.units]);
  return [ONNX_INPUT_GRAD, ONNX_LOGITS, ...addStageOutputs(ctx, model)];
}

/**
 * The maps at the cuts LayerCAM and Grad-CAM read (explain/layer-split.ts) and the gradient reaching
 * them, from the same backward pass: one run gives every finer map's CAM, where tfjs ran a forward and a
 * gradient per map. Models without such a stage (no EfficientNet or MobileNetV2 table) give none.
 */
function addStageOutputs(ctx: ExportContext, model: tf.LayersModel): string[] {
  const size = (model.inputs[0].shape[1] as number) ?? 0;
  const names: string[] = [];
  for (const stride of STAGE_STRIDES) {
    const side = Math.round(size / stride);
    let tensor: tf.SymbolicTensor;
    try {
      tensor = cutTensor(model, side).tensor;
    } catch {
      continue;
    }
    const a = ctx.get(tensor);
    const grad = ctx.gradOf(tensor.id, `stage_${side}`);
    if (a.layout !== 'nchw' || a.pad || !grad) continue;
    const nhwc = (v: string, base: string) => ctx.g.op('Transpose', [v], base, { perm: { ints: [0, 2, 3, 1] } });
    ctx.g.output(nhwc(a.name, `stage_${side}_nhwc`), stageOutput(side), ['batch', ...a.shape]);
    ctx.g.output(nhwc(grad, `stage_${side}_grad_nhwc`), stageGradOutput(side), ['batch', ...a.shape]);
    names.push(stageOutput(side), stageGradOutput(side));
  }
  return names;
}

/** The feature map (CAM, Grad-CAM) as the second output, back in NHWC, when the model has the layer. */
function addFeatureOutput(ctx: ExportContext, model: tf.LayersModel, featureName: string): string[] {
  const featureLayer = model.layers.find((l) => l.name === featureName);
  if (!featureLayer) return [];
  const f = ctx.values.get((featureLayer.output as tf.SymbolicTensor).id);
  if (!f || f.layout !== 'nchw') throw new ExportError(`${featureName} is not a feature map`);
  const nhwc = ctx.g.op('Transpose', [f.name], `${featureName}_nhwc`, { perm: { ints: [0, 2, 3, 1] } });
  ctx.g.output(nhwc, ONNX_FEATURES, ['batch', ...f.shape]);
  return [ONNX_FEATURES];
}

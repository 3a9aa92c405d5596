// The localisation penalty on a training graph (train/mask-penalty.ts has the tfjs side and the why).
// Per image, with o the outside share of each position and a the map [n, k, h, w]:
//   m = Σ_p o·a / Σ_p o,  D = Σ_k |a − m|,  r = Σ_p o·D / Σ_p D,
// times `mask_penalty_scale` (λ · share / n), summed over the images. Its gradient enters the backward
// pass at the map: with q = (o − r) / Σ_p D and s = sign(a − m),
//   ∂r/∂a = q·s − (o / Σ_p o) · Σ_p q·s   (the second term through the mean m).
import type * as tf from '@tensorflow/tfjs';
import { cutTensor } from '../explain/layer-split.js';
import { PENALTY_EPSILON } from '../train/mask-penalty.js';
import type { ExportContext } from './export-context.js';
import { ExportError, ONNX_CELL_OUTSIDE, ONNX_MASK_PENALTY_SCALE } from './export-types.js';

const SPATIAL = [2, 3];

export function addMaskPenalty(ctx: ExportContext, model: tf.LayersModel, side: number): void {
  const { g } = ctx;
  const { tensor } = cutTensor(model, side);
  const a = ctx.get(tensor);
  if (a.layout !== 'nchw' || a.pad) throw new ExportError(`the penalty's map ${tensor.name} is not a plain feature map`);
  const o = g.input(ONNX_CELL_OUTSIDE, ['batch', 1, side, side]);
  const scale = ctx.scalarInput(ONNX_MASK_PENALTY_SCALE);
  const sum = (v: string, axes: number[], base: string, keep = 1) => g.op('ReduceSum', [v, g.int64s(`${base}_axes`, axes)], base, { keepdims: { int: keep } });
  const plusEps = (v: string, base: string) => g.op('Add', [v, ctx.constant(`${base}_eps`, PENALTY_EPSILON)], base);
  const surroundings = plusEps(sum(o, SPATIAL, 'cells_o_sum'), 'cells_surroundings');
  const mean = g.op('Div', [sum(g.op('Mul', [a.name, o], 'cells_a_o'), SPATIAL, 'cells_a_o_sum'), surroundings], 'cells_mean');
  const centred = g.op('Sub', [a.name, mean], 'cells_centred');
  const structure = sum(g.op('Abs', [centred], 'cells_abs'), [1], 'cells_structure');
  const total = plusEps(sum(structure, SPATIAL, 'cells_total_sum'), 'cells_total');
  const share = g.op('Div', [sum(g.op('Mul', [structure, o], 'cells_structure_o'), SPATIAL, 'cells_outside_sum'), total], 'cells_share');
  ctx.lossTerms.push(g.op('Mul', [sum(share, [0, 1, 2, 3], 'cells_share_sum', 0), scale], 'cells_loss'));
  const q = g.op('Div', [g.op('Sub', [o, share], 'cells_o_minus_share'), total], 'cells_q');
  const qs = g.op('Mul', [q, ctx.absGrad(centred, 'cells')], 'cells_qs');
  const throughMean = g.op('Mul', [g.op('Div', [o, surroundings], 'cells_o_weight'), sum(qs, SPATIAL, 'cells_qs_sum')], 'cells_through_mean');
  ctx.addGrad(tensor, g.op('Mul', [g.op('Sub', [qs, throughMean], 'cells_grad_unscaled'), scale], 'cells_grad'));
}

// Batch norm on a training graph. 'frozen': normalised with its moving statistics. 'batch': with the
// micro-batch's own (mean and biased variance, as tfjs-layers computes them), which are outputs so that
// the trainer moves the moving statistics as tfjs would. Scale (gamma) and offset (beta) are graph
// inputs where they train, with their gradients as outputs.
//
// Every per-channel affine map over a whole tensor is ONNX's inference BatchNormalization, one pass over
// memory where Sub, Mul, Mul, Add would be four: on EfficientNet-B0 these passes are a fifth of a step.
import type { ExportContext, LayerInput } from '../export-context.js';
import type { BatchNorm } from '../export-ops.js';
import { ExportError, type Value } from '../export-types.js';

type Param = { k: number; name: string } | null;

/** The statistics x is normalised with, per channel ([C]): the moving ones as constants, or the micro-batch's
 *  (then with the number of values each channel has, which the input gradient needs too). */
function statistics(ctx: ExportContext, l: LayerInput, x: Value, bn: BatchNorm, axes: number[]): { mean: string; variance: string; centred: () => string; count?: string } {
  const { g } = ctx;
  const n = l.name;
  if (ctx.training!.batchNorm === 'frozen') {
    const mean = g.floats(`${n}_mean`, bn.mean, [bn.mean.length]);
    const dims = axes.length === 1 ? [1, bn.mean.length] : [1, bn.mean.length, 1, 1];
    let centred: string | null = null;
    const lazyCentred = () => (centred ??= g.op('Sub', [x.name, g.floats(`${n}_mean_b`, bn.mean, dims)], `${n}_centred`));
    return { mean, variance: g.floats(`${n}_variance`, bn.variance, [bn.mean.length]), centred: lazyCentred };
  }
  const mu = g.op('ReduceMean', [x.name], `${n}_batch_mean`, { axes: { ints: axes }, keepdims: { int: 1 } });
  const centred = g.op('Sub', [x.name, mu], `${n}_centred`);
  const squares = g.op('ReduceSumSquare', [centred], `${n}_sum_sq`, { axes: { ints: axes }, keepdims: { int: 0 } });
  const count = valuesPerChannel(ctx, x.name, n, bn.mean.length);
  const variance = g.op('Div', [squares, count], `${n}_batch_var`);
  const mean = g.reshape(mu, [-1], `${n}_mean_out`);
  ctx.batchStats.push({ layer: n, mean, variance });
  return { mean, variance, centred: () => centred, count };
}

/** How many values each channel has in this micro-batch (its size is known only when the graph runs). */
function valuesPerChannel(ctx: ExportContext, v: string, n: string, channels: number): string {
  const { g } = ctx;
  return g.op('Div', [g.op('Cast', [g.op('Size', [v], `${n}_size`)], `${n}_size_f`, { to: { int: 1 } }), ctx.constant(`${n}_channels`, channels)], `${n}_count`);
}

/** scale · v + offset per channel ([C] each) in one pass: BatchNormalization over a mean of 0 and a variance of 1. */
function affine(ctx: ExportContext, v: string, scale: string, offset: string, name: string, channels: number): string {
  const { g } = ctx;
  const zeros = g.floats(`${name}_zeros`, new Float32Array(channels), [channels]);
  const ones = g.floats(`${name}_ones`, new Float32Array(channels).fill(1), [channels]);
  return g.op('BatchNormalization', [v, scale, offset, zeros, ones], name, { epsilon: { float: 0 } });
}

export function trainableBatchNorm(ctx: ExportContext, l: LayerInput, x: Value, bn: BatchNorm, gamma: Param, beta: Param): Value {
  if (l.cfg.gammaRegularizer || l.cfg.betaRegularizer) throw new ExportError(`${l.name}: no gradient for a batch norm's regulariser`);
  const { g } = ctx;
  const n = l.name;
  const c = bn.mean.length;
  const flat = x.layout === 'flat';
  const axes = flat ? [0] : [0, 2, 3];
  const { mean, variance, centred, count } = statistics(ctx, l, x, bn, axes);
  const gammaC = gamma ? gamma.name : g.floats(`${n}_gamma`, bn.gamma, [c]);
  const betaC = beta ? beta.name : g.floats(`${n}_beta`, bn.beta, [c]);
  const y = g.op('BatchNormalization', [x.name, gammaC, betaC, mean, variance], n, { epsilon: { float: bn.epsilon } });
  l.grad((gy) => {
    const sum = (v: string, base: string) => g.op('ReduceSum', [v, g.int64s(`${base}_axes`, axes)], base, { keepdims: { int: 0 } });
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, ctx.constant(`${n}_eps`, bn.epsilon)], `${n}_var_eps`)], `${n}_std`)], `${n}_inv_std`);
    // Σ ∂y is the offset's gradient; Σ ∂y·x̂ = Σ ∂y·(x − μ) / σ the scale's (on x − μ itself: from Σ ∂y·x −
    // μ Σ ∂y, a channel whose mean is large against its spread would lose its digits).
    const sumGy = sum(gy, `${n}_sum_gy`);
    const sumGyXhat = g.op('Mul', [sum(g.op('Mul', [gy, centred()], `${n}_gy_c`), `${n}_sum_gy_c`), inv], `${n}_sum_gy_xhat`);
    if (gamma) ctx.weightGrad(gamma.k, sumGyXhat);
    if (beta) ctx.weightGrad(beta.k, sumGy);
    if (!ctx.needsGrad(l.inTensors[0])) return;
    const a = g.op('Mul', [gammaC, inv], `${n}_scale`);
    const zeros = g.floats(`${n}_grad_zeros`, new Float32Array(c), [c]);
    if (!count) return ctx.addGrad(l.inTensors[0], affine(ctx, gy, a, zeros, `${n}_grad`, c)); // frozen
    // ∂x = a · (∂y − mean(∂y) − x̂ · mean(∂y·x̂)) with a = γ/σ and x̂ = (x − μ)/σ, i.e. a·∂y + k1·(x − μ) + k0
    // with k1 = −a·mean(∂y·x̂)/σ and k0 = −a·mean(∂y) (means over the batch and the map).
    const k1 = g.op('Neg', [g.op('Div', [g.op('Mul', [a, g.op('Mul', [sumGyXhat, inv], `${n}_m_over_std`)], `${n}_k1_sum`), count], `${n}_k1_pos`)], `${n}_k1`);
    const k0 = g.op('Neg', [g.op('Div', [g.op('Mul', [a, sumGy], `${n}_a_sum_gy`), count], `${n}_a_mean_gy`)], `${n}_k0`);
    const fromX = affine(ctx, centred(), k1, k0, `${n}_grad_x`, c);
    ctx.addGrad(l.inTensors[0], g.op('Add', [affine(ctx, gy, a, zeros, `${n}_grad_gy`, c), fromX], `${n}_grad`));
  });
  return { name: y, layout: x.layout, shape: l.outShape };
}

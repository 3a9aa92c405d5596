// Batch norm on a training graph. 'frozen': normalised with its moving statistics. 'batch': with the
// micro-batch's own (mean and biased variance, as tfjs-layers computes them), which are outputs so that
// the trainer moves the moving statistics as tfjs would. Scale (gamma) and offset (beta) are graph
// inputs where they train, with their gradients as outputs.
import type { ExportContext, LayerInput } from '../export-context.js';
import type { BatchNorm } from '../export-ops.js';
import { ExportError, type Value } from '../export-types.js';

type Param = { k: number; name: string } | null;

/** x normalised (x̂) and 1/σ per channel: the moving statistics' constants, or the micro-batch's. */
function normalise(ctx: ExportContext, l: LayerInput, x: Value, bn: BatchNorm, dims: number[]): { xhat: string; inv: string } {
  const { g } = ctx;
  const n = l.name;
  if (ctx.training!.batchNorm === 'frozen') {
    const inv = g.floats(
      `${n}_inv_std`,
      Float32Array.from(bn.variance, (v) => 1 / Math.sqrt(v + bn.epsilon)),
      dims,
    );
    return { xhat: g.op('Mul', [g.op('Sub', [x.name, g.floats(`${n}_mean`, bn.mean, dims)], `${n}_centred`), inv], `${n}_xhat`), inv };
  }
  const mean = (v: string, base: string) => g.op('ReduceMean', [v], base, { axes: { ints: dims.length === 2 ? [0] : [0, 2, 3] }, keepdims: { int: 1 } });
  const mu = mean(x.name, `${n}_batch_mean`);
  const centred = g.op('Sub', [x.name, mu], `${n}_centred`);
  const variance = mean(g.op('Mul', [centred, centred], `${n}_sq`), `${n}_batch_var`);
  const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, ctx.constant(`${n}_eps`, bn.epsilon)], `${n}_var_eps`)], `${n}_std`)], `${n}_inv_std`);
  ctx.batchStats.push({ layer: n, mean: g.reshape(mu, [-1], `${n}_mean_out`), variance: g.reshape(variance, [-1], `${n}_var_out`) });
  return { xhat: g.op('Mul', [centred, inv], `${n}_xhat`), inv };
}

export function trainableBatchNorm(ctx: ExportContext, l: LayerInput, x: Value, bn: BatchNorm, gamma: Param, beta: Param): Value {
  if (l.cfg.gammaRegularizer || l.cfg.betaRegularizer) throw new ExportError(`${l.name}: no gradient for a batch norm's regulariser`);
  const { g } = ctx;
  const n = l.name;
  const flat = x.layout === 'flat';
  const dims = flat ? [1, bn.mean.length] : [1, bn.mean.length, 1, 1];
  const { xhat, inv } = normalise(ctx, l, x, bn, dims);
  const asDims = (p: Param, data: Float32Array, what: string) => (p ? g.reshape(p.name, dims, `${n}_${what}`) : g.floats(`${n}_${what}`, data, dims));
  const gammaR = asDims(gamma, bn.gamma, 'gamma');
  const y = g.op('Add', [g.op('Mul', [xhat, gammaR], `${n}_scaled`), asDims(beta, bn.beta, 'beta')], n);
  l.grad((gy) => {
    // Σ ∂y and Σ ∂y·x̂ per channel: the offset's and the scale's gradients, and (batch statistics) the means in ∂x.
    const sum = (v: string, base: string) => g.op('ReduceSum', [v, g.int64s(`${base}_axes`, flat ? [0] : [0, 2, 3])], base, { keepdims: { int: 1 } });
    const sumGy = sum(gy, `${n}_sum_gy`);
    const sumGyXhat = sum(g.op('Mul', [gy, xhat], `${n}_gy_xhat`), `${n}_sum_gy_xhat`);
    if (gamma) ctx.weightGrad(gamma.k, g.reshape(sumGyXhat, [-1], `${n}_dgamma`));
    if (beta) ctx.weightGrad(beta.k, g.reshape(sumGy, [-1], `${n}_dbeta`));
    if (!ctx.needsGrad(l.inTensors[0])) return;
    const scale = g.op('Mul', [gammaR, inv], `${n}_scale`);
    if (ctx.training!.batchNorm === 'frozen') return ctx.addGrad(l.inTensors[0], g.op('Mul', [gy, scale], `${n}_grad`));
    // ∂x = γ/σ · (∂y − mean(∂y) − x̂ · mean(∂y·x̂)), the means over the batch and the map (count: size / channels).
    const count = g.op('Div', [g.op('Cast', [g.op('Size', [gy], `${n}_size`)], `${n}_size_f`, { to: { int: 1 } }), ctx.constant(`${n}_channels`, bn.mean.length)], `${n}_count`);
    const [meanGy, meanGyXhat] = [g.op('Div', [sumGy, count], `${n}_mean_gy`), g.op('Div', [sumGyXhat, count], `${n}_mean_gy_xhat`)];
    const centredGy = g.op('Sub', [gy, g.op('Add', [g.op('Mul', [xhat, meanGyXhat], `${n}_xhat_m`), meanGy], `${n}_projection`)], `${n}_gy_centred`);
    ctx.addGrad(l.inTensors[0], g.op('Mul', [centredGy, scale], `${n}_grad`));
  });
  return { name: y, layout: x.layout, shape: l.outShape };
}

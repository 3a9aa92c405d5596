// Batch norm on a training graph. 'frozen': normalised with its moving statistics. 'batch': with the
// micro-batch's own (mean and biased variance, as tfjs-layers computes them), which are outputs so that
// the trainer moves the moving statistics as tfjs would. Scale (gamma) and offset (beta) are graph
// inputs where they train, with their gradients as outputs.
import type { ExportContext, LayerInput } from '../export-context.js';
import type { BatchNorm } from '../export-ops.js';
import { ExportError, type Value } from '../export-types.js';

type Param = { k: number; name: string } | null;

/** x normalised: the moving statistics' constants, or the batch's statistics with their backward step. */
function normalise(ctx: ExportContext, l: LayerInput, x: Value, bn: BatchNorm, dims: number[]) {
  const { g } = ctx;
  const n = l.name;
  if (ctx.training!.batchNorm === 'frozen') {
    const inv = g.floats(
      `${n}_inv_std`,
      Float32Array.from(bn.variance, (v) => 1 / Math.sqrt(v + bn.epsilon)),
      dims,
    );
    const xhat = g.op('Mul', [g.op('Sub', [x.name, g.floats(`${n}_mean`, bn.mean, dims)], `${n}_centred`), inv], `${n}_xhat`);
    return { xhat, backward: (dxhat: string) => g.op('Mul', [dxhat, inv], `${n}_grad`) };
  }
  const mean = (v: string, base: string) => g.op('ReduceMean', [v], base, { axes: { ints: dims.length === 2 ? [0] : [0, 2, 3] }, keepdims: { int: 1 } });
  const mu = mean(x.name, `${n}_batch_mean`);
  const centred = g.op('Sub', [x.name, mu], `${n}_centred`);
  const variance = mean(g.op('Mul', [centred, centred], `${n}_sq`), `${n}_batch_var`);
  const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, ctx.constant(`${n}_eps`, bn.epsilon)], `${n}_var_eps`)], `${n}_std`)], `${n}_inv_std`);
  const xhat = g.op('Mul', [centred, inv], `${n}_xhat`);
  const flat = (v: string, base: string) => g.op('Reshape', [v, g.int64s(`${base}_dims`, [-1])], base);
  ctx.batchStats.push({ layer: n, mean: flat(mu, `${n}_mean_out`), variance: flat(variance, `${n}_var_out`) });
  // ∂x = inv · (∂x̂ − mean(∂x̂) − x̂ · mean(∂x̂ · x̂)), the means over the batch and the map.
  const backward = (dxhat: string) => {
    const meanDx = mean(dxhat, `${n}_mean_dxhat`);
    const meanDxX = mean(g.op('Mul', [dxhat, xhat], `${n}_dxhat_xhat`), `${n}_mean_dxhat_xhat`);
    const inner = g.op('Sub', [g.op('Sub', [dxhat, meanDx], `${n}_dxhat_c`), g.op('Mul', [xhat, meanDxX], `${n}_xhat_m`)], `${n}_inner`);
    return g.op('Mul', [inner, inv], `${n}_grad`);
  };
  return { xhat, backward };
}

export function trainableBatchNorm(ctx: ExportContext, l: LayerInput, x: Value, bn: BatchNorm, gamma: Param, beta: Param): Value {
  if (l.cfg.gammaRegularizer || l.cfg.betaRegularizer) throw new ExportError(`${l.name}: no gradient for a batch norm's regulariser`);
  const { g } = ctx;
  const n = l.name;
  const flat = x.layout === 'flat';
  const dims = flat ? [1, bn.mean.length] : [1, bn.mean.length, 1, 1];
  const axes = () => g.int64s(`${n}_axes`, flat ? [0] : [0, 2, 3]);
  const { xhat, backward } = normalise(ctx, l, x, bn, dims);
  const asDims = (p: Param, data: Float32Array, what: string) => (p ? g.op('Reshape', [p.name, g.int64s(`${n}_${what}_dims`, dims)], `${n}_${what}`) : g.floats(`${n}_${what}`, data, dims));
  const gammaR = asDims(gamma, bn.gamma, 'gamma');
  const y = g.op('Add', [g.op('Mul', [xhat, gammaR], `${n}_scaled`), asDims(beta, bn.beta, 'beta')], n);
  l.grad((gy) => {
    const sum = (v: string, base: string) => g.op('ReduceSum', [v, axes()], base, { keepdims: { int: 0 } });
    if (gamma) ctx.weightGrad(gamma.k, sum(g.op('Mul', [gy, xhat], `${n}_gy_xhat`), `${n}_dgamma`));
    if (beta) ctx.weightGrad(beta.k, sum(gy, `${n}_dbeta`));
    if (ctx.needsGrad(l.inTensors[0])) ctx.addGrad(l.inTensors[0], backward(g.op('Mul', [gy, gammaR], `${n}_dxhat`)));
  });
  return { name: y, layout: x.layout, shape: l.outShape };
}

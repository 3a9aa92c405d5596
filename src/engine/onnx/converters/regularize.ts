// A layer's L1/L2 weight regularisers on a training graph: their terms join the loss and their gradients
// the weight's, both times `reg_scale`, as Keras's `L1L2` defines them.
import type { ExportContext, LayerInput } from '../export-context.js';
import { ExportError, ONNX_REG_SCALE } from '../export-types.js';

interface RegularizerConfig {
  className: string;
  config: { l1?: number; l2?: number };
}

/** The weight's gradient with its regulariser's added (the gradient as it was where it has none). */
export function regularize(ctx: ExportContext, l: LayerInput, which: 'kernel' | 'bias', w: string, grad: string): string {
  const reg = l.cfg[`${which}Regularizer`] as RegularizerConfig | null | undefined;
  if (!reg) return grad;
  if (!['L1L2', 'L1', 'L2'].includes(reg.className)) throw new ExportError(`${l.name}: no gradient for the ${which} regulariser ${reg.className}`);
  const { g } = ctx;
  const base = `${l.name}_${which}_reg`;
  const { l1 = 0, l2 = 0 } = reg.config;
  const scale = ctx.scalarInput(ONNX_REG_SCALE);
  const addLoss = (term: string, what: string) => ctx.lossTerms.push(g.op('Mul', [term, scale], `${base}_${what}_loss`));
  const parts: string[] = [];
  if (l2) {
    addLoss(g.op('Mul', [g.op('ReduceSumSquare', [w], `${base}_l2sum`, { keepdims: { int: 0 } }), ctx.constant(`${base}_l2`, l2)], `${base}_l2_term`), 'l2');
    parts.push(g.op('Mul', [w, ctx.constant(`${base}_2l2`, 2 * l2)], `${base}_l2_grad`));
  }
  if (l1) {
    addLoss(g.op('Mul', [g.op('ReduceL1', [w], `${base}_l1sum`, { keepdims: { int: 0 } }), ctx.constant(`${base}_l1`, l1)], `${base}_l1_term`), 'l1');
    parts.push(g.op('Mul', [ctx.absGrad(w, base), ctx.constant(`${base}_l1g`, l1)], `${base}_l1_grad`));
  }
  if (!parts.length) return grad;
  const sum = parts.length === 1 ? parts[0] : g.op('Sum', parts, `${base}_grad_sum`);
  return g.op('Add', [grad, g.op('Mul', [sum, scale], `${base}_grad_scaled`)], `${base}_grad`);
}

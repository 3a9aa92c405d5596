// The training graph's end: the class-weighted cross-entropy, its gradient at the output layer's
// pre-activation as the backward pass's seed, the loss (regularisers included) as an output, and a
// check that every trainable weight got its gradient output.
import type { ExportContext } from './export-context.js';
import { ExportError, ONNX_LOSS, ONNX_SAMPLE_WEIGHT, ONNX_TARGET, weightGradName } from './export-types.js';

/** Adds the loss and the seed; returns the output names the backward pass will add (the loss, then each gradient). */
export function addTrainingLoss(ctx: ExportContext): string[] {
  const { g, logits } = ctx;
  const out = ctx.values.get(ctx.outputTensor.id);
  if (!logits || !out || !ctx.training) throw new ExportError('the output layer is not a Dense layer: no loss to differentiate');
  const { activation } = logits;
  if (!(activation === 'softmax' || (activation === 'sigmoid' && logits.units === 1))) throw new ExportError(`no loss for an output activation '${activation}' over ${logits.units} unit(s)`);
  const target = g.input(ONNX_TARGET, ['batch', logits.units]);
  const weights = g.reshape(g.input(ONNX_SAMPLE_WEIGHT, ['batch']), [-1, 1], 'sample_weight_column');
  const { perImage, counts } = activation === 'softmax' ? softmaxCrossEntropy(ctx, out.name, target) : sigmoidCrossEntropy(ctx, out.name, target);
  // Softmax with cross-entropy, or a sigmoid with binary cross-entropy: both have (p − t) at the logits,
  // where the probability was inside the clip (tfjs's clip passes no gradient outside it).
  ctx.seed = g.op('Mul', [g.op('Mul', [g.op('Sub', [out.name, target], 'loss_residual'), counts], 'loss_residual_clipped'), weights], 'loss_seed');
  const crossEntropy = g.op('ReduceSum', [g.op('Mul', [perImage, weights], 'loss_ce_weighted')], 'loss_ce_sum', { keepdims: { int: 0 } });
  ctx.addGrad(ctx.outputTensor, ctx.seed);
  return [crossEntropy];
}

// The cross-entropy as the tfjs trainer computes it (micro-batch.ts): on probabilities clipped to
// [1e-7, 1] (softmax) or [1e-7, 1 − 1e-7] (sigmoid), so that a saturated output costs at most −log 1e-7
// and passes no gradient, exactly as there. `counts`: 1 where the gradient passes, per image.
const EPSILON = 1e-7;

function softmaxCrossEntropy(ctx: ExportContext, probs: string, target: string): { perImage: string; counts: string } {
  const { g } = ctx;
  const clipped = g.op('Clip', [probs, ctx.constant('loss_eps', EPSILON), ctx.constant('loss_one', 1)], 'loss_p_clipped');
  const axis = () => g.int64s('loss_class_axis', [1]);
  const sum = (v: string, base: string) => g.op('ReduceSum', [v, axis()], base, { keepdims: { int: 1 } });
  const perImage = g.op('Neg', [sum(g.op('Mul', [target, g.op('Log', [clipped], 'loss_log_p')], 'loss_t_log_p'), 'loss_sum_t_log_p')], 'loss_ce');
  const pTrue = sum(g.op('Mul', [target, probs], 'loss_t_p'), 'loss_p_true');
  const counts = g.op('Cast', [g.op('GreaterOrEqual', [pTrue, ctx.constant('loss_eps_at', EPSILON)], 'loss_in_clip')], 'loss_counts', { to: { int: 1 } });
  return { perImage, counts };
}

function sigmoidCrossEntropy(ctx: ExportContext, p: string, t: string): { perImage: string; counts: string } {
  const { g } = ctx;
  const [lo, hi] = [ctx.constant('loss_eps', EPSILON), ctx.constant('loss_1m_eps', 1 - EPSILON)];
  const clipped = g.op('Clip', [p, lo, hi], 'loss_p_clipped');
  const one = ctx.constant('loss_one', 1);
  const sub1 = (v: string, base: string) => g.op('Sub', [one, v], base);
  const positive = g.op('Mul', [t, g.op('Log', [clipped], 'loss_log_p')], 'loss_t_log_p');
  const negative = g.op('Mul', [sub1(t, 'loss_1mt'), g.op('Log', [sub1(clipped, 'loss_1mp')], 'loss_log_1mp')], 'loss_1mt_log_1mp');
  const perImage = g.op('Neg', [g.op('Add', [positive, negative], 'loss_log_likelihood')], 'loss_ce');
  const inside = g.op('And', [g.op('GreaterOrEqual', [p, lo], 'loss_above'), g.op('LessOrEqual', [p, hi], 'loss_below')], 'loss_in_clip');
  return { perImage, counts: g.op('Cast', [inside], 'loss_counts', { to: { int: 1 } }) };
}

/** After the backward pass: the loss output, and every trainable weight's gradient accounted for. */
export function finishTrainingOutputs(ctx: ExportContext, crossEntropy: string): string[] {
  const { g } = ctx;
  const terms = [crossEntropy, ...ctx.lossTerms];
  g.output(terms.length === 1 ? crossEntropy : g.op('Sum', terms, 'loss_total'), ONNX_LOSS, []);
  // Each batch norm's statistics, under the names the trainer fetches them by.
  for (const s of ctx.batchStats) {
    g.output(s.mean, (s.mean = `batch_mean_${s.layer}`), ['channels']);
    g.output(s.variance, (s.variance = `batch_variance_${s.layer}`), ['channels']);
  }
  const trainable = ctx.training!.trainable;
  const missing = trainable.filter((_, k) => !ctx.gradOutputs.has(k)).map((v) => v.name);
  if (missing.length) throw new ExportError(`no gradient reaches ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}`);
  return [ONNX_LOSS, ...trainable.map((_, k) => weightGradName(k))];
}

// The Retrain and Benchmarks screens' keys: retrain, pick a version, promote or roll back, score versions.
import type { Handler, KeyDeps } from './types.js';

export function retrainHandlers(d: KeyDeps) {
  const { retrain } = d;
  return {
    'evaluate-versions': { run: () => void d.versionEvaluation.run() },
    'retrain-start': { run: () => void retrain.start() },
    'adapt-start': { run: () => void retrain.adapt() },
    'retrain-mode': { run: () => retrain.dispatch({ type: 'mode' }) },
    'version-up': { run: () => retrain.dispatch({ type: 'move', by: -1 }) },
    'version-down': { run: () => retrain.dispatch({ type: 'move', by: 1 }) },
    promote: { run: () => retrain.ask() },
    'promote-yes': { run: () => void retrain.promote() },
    'retrain-cancel': { run: () => (retrain.state.job || retrain.state.confirm ? retrain.cancel() : d.dispatch({ type: 'go', screen: 'queue' })) },
  } satisfies Record<string, Handler>;
}

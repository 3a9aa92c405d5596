// Every action's handler, from the screens' controllers; `satisfies Handlers` fails the build when an
// action of src/keymap.ts has none.
import { globalHandlers } from './global.js';
import { queueHandlers } from './queue.js';
import { retrainHandlers } from './retrain.js';
import { slideHandlers, zoomHandlers } from './slide.js';
import type { Handlers, KeyDeps } from './types.js';

export type { KeyDeps } from './types.js';

export function keyHandlers(d: KeyDeps): Handlers {
  return { ...globalHandlers(d), ...queueHandlers(d), ...slideHandlers(d), ...zoomHandlers(d), ...retrainHandlers(d) } satisfies Handlers;
}

// Every command, in the order help lists them.
import { appCommand } from './app.js';
import { benchCommand, benchEngineCommand } from './bench.js';
import type { Command } from './command.js';
import { explainCommand, xaiEvalCommand } from './explain.js';
import { engineCommand, ingestCommand } from './cluster.js';
import { importWeightsCommand } from './import-weights.js';
import { adaptCommand, modelsCommand, retrainCommand } from './models.js';
import { predictCommand } from './predict.js';
import { auditCommand, exportCommand, scanCommand, statusCommand, storeCommand } from './store.js';
import { trainCommand } from './train.js';

export const COMMANDS: readonly Command[] = [
  appCommand,
  predictCommand,
  explainCommand,
  xaiEvalCommand,
  importWeightsCommand,
  trainCommand,
  retrainCommand,
  adaptCommand,
  modelsCommand,
  scanCommand,
  statusCommand,
  exportCommand,
  auditCommand,
  storeCommand,
  engineCommand,
  ingestCommand,
  benchCommand,
  benchEngineCommand,
];

export function findCommand(name: string | undefined): Command | undefined {
  return COMMANDS.find((c) => c.name === (name ?? ''));
}

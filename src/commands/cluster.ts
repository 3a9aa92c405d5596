// The commands of a lab with several machines: engine hosts and the ingest, on a PostgreSQL store.
import { UsageError, type Command } from './command.js';

export const engineCommand: Command = {
  name: 'engine',
  usage: 'serve',
  summary: 'classify the slides the ingest enqueues, on this host, until stopped (a PostgreSQL store)',
  flags: {},
  async run({ args, config, out }) {
    if (args[0] !== 'serve') throw new UsageError('engine has one subcommand: engine serve');
    const { runEngineServe } = await import('../headless/cluster.js');
    return runEngineServe(config, out);
  },
};

export const ingestCommand: Command = {
  name: 'ingest',
  usage: 'serve',
  summary: 'watch the incoming folder and enqueue each new slide once for the engine hosts (a PostgreSQL store)',
  flags: { once: { type: 'boolean', description: 'read the folder once, enqueue, and exit' } },
  async run({ args, values, config, out }) {
    if (args[0] !== 'serve') throw new UsageError('ingest has one subcommand: ingest serve [--once]');
    const { runIngestServe } = await import('../headless/cluster.js');
    return runIngestServe(config, !!values.once, out);
  },
};

// The store's commands: read the incoming folder, count, export the confirmed labels, check the journal.
import path from 'node:path';
import { UsageError, type Command } from './command.js';

export const scanCommand: Command = {
  name: 'scan',
  summary: 'read the incoming folder once (every file gets a state), then print the status',
  flags: {},
  async run({ config, out }) {
    const { runScan } = await import('../headless/store-commands.js');
    return runScan(config, out);
  },
};

export const statusCommand: Command = {
  name: 'status',
  summary: 'counts of slides by state (queued, duplicate, rejected, gone, labelled) and every rejected file',
  flags: { json: { type: 'boolean', description: 'as JSON' } },
  async run({ values, config, out }) {
    const { runStatus } = await import('../headless/store-commands.js');
    return runStatus(config, !!values.json, out);
  },
};

export const exportCommand: Command = {
  name: 'export',
  summary: 'the confirmed labels as CSV, or as class folders (the input of train), from the store’s own copies',
  flags: {
    format: { type: 'string', value: 'csv|folders', description: 'what to write' },
    out: { type: 'string', value: 'DIR', description: 'an empty or new folder' },
    force: { type: 'boolean', description: 'write into a folder that is not empty' },
  },
  async run({ values, config, out }) {
    if (!values.format || !values.out) throw new UsageError('export needs --format csv|folders and --out DIR');
    const { runExportCommand } = await import('../headless/store-commands.js');
    return runExportCommand(config, { format: String(values.format), outDir: path.resolve(String(values.out)), force: !!values.force }, out);
  },
};

export const auditCommand: Command = {
  name: 'audit',
  usage: 'verify',
  summary: 'check the audit journal’s hash chain',
  flags: {},
  async run({ args, config, out }) {
    if (args[0] !== 'verify') throw new UsageError('audit has one subcommand: audit verify');
    const { runAuditVerify } = await import('../headless/store-commands.js');
    return runAuditVerify(config, out);
  },
};

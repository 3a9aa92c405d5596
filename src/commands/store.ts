// The store's commands: read the incoming folder, count, export the confirmed labels, check and export the
// journal, and import an older store.
import { storeFolder } from '../config.js';
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
  usage: 'verify|export|anchor',
  summary: 'check the audit journal’s hash chain (in the store, or an exported file), export it as JSON lines, or print its head for a notary',
  flags: {
    file: { type: 'string', value: 'FILE', description: 'verify: a JSON-lines journal (an export) instead of the store’s; export: where to write it' },
    anchor: { type: 'string', value: 'SEQ:HASH', description: 'verify: also check the journal against a head `audit anchor` printed earlier' },
  },
  async run({ args, values, config, out }) {
    const file = values.file === undefined ? null : path.resolve(String(values.file));
    const { runAuditVerify, runAuditExport, runAuditAnchor } = await import('../headless/store-commands.js');
    if (args[0] === 'verify') {
      const { parseAnchor } = await import('../store/heads.js');
      const anchor = values.anchor === undefined ? null : parseAnchor(String(values.anchor));
      if (values.anchor !== undefined && !anchor) throw new UsageError(`--anchor takes SEQ:HASH as \`audit anchor\` prints it, not "${String(values.anchor)}"`);
      return runAuditVerify(config, file, anchor, out);
    }
    if (args[0] === 'export') {
      if (!file) throw new UsageError('audit export needs --file FILE (a new file)');
      return runAuditExport(config, file, out);
    }
    if (args[0] === 'anchor') return runAuditAnchor(config, out);
    throw new UsageError('audit has three subcommands: audit verify [--file FILE] [--anchor SEQ:HASH], audit export --file FILE, audit anchor');
  },
};

export const storeCommand: Command = {
  name: 'store',
  usage: 'migrate',
  summary: 'import an older slidetriage’s store.json and audit.jsonl into the SQLite store, or (--to) copy the store into PostgreSQL; verified first, the old files stay untouched',
  flags: {
    to: { type: 'string', value: 'postgres://…', description: 'copy the configured store into this (empty) PostgreSQL store, the journal verified on both sides' },
    from: { type: 'string', value: 'FILE', description: 'the JSON store to import', default: 'store.json beside the configured store' },
    journal: { type: 'string', value: 'FILE', description: 'its journal', default: 'the configured journal' },
  },
  async run({ args, values, config, out }) {
    if (args[0] !== 'migrate') throw new UsageError('store has one subcommand: store migrate [--from FILE] [--journal FILE]');
    const from = path.resolve(values.from === undefined ? path.join(storeFolder(config), 'store.json') : String(values.from));
    const journal = values.journal === undefined ? config.journal : path.resolve(String(values.journal));
    const { runStoreCopy, runStoreMigrate } = await import('../headless/store-commands.js');
    if (values.to !== undefined) return runStoreCopy(config, String(values.to), out);
    return runStoreMigrate(config, from, journal, out);
  },
};

// A command declares its arguments and flags in one place (oclif's `static flags`, cli-kit's commands):
// the parser, `--help` and docs/commands.md are made from the declarations; the work is in the services
// (src/headless/*), which a command calls.
import type { Config } from '../config.js';
import type { Output } from '../headless/output.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** The value's placeholder in help (DIR, N, a,b,…); none for a boolean. */
  value?: string;
  description: string;
  /** The default as help shows it (train's are checked against TRAIN_DEFAULTS by a test). */
  default?: string;
}

export type Flags = Record<string, FlagSpec>;

export interface CommandContext {
  /** The flags given, by name (string, boolean, or string[] for a repeatable flag). */
  values: Record<string, string | boolean | string[] | undefined>;
  /** The arguments after the command's name. */
  args: string[];
  config: Config;
  /** The configured model before a promoted version replaced it. */
  defaultModel: string;
  out: Output;
  argv: string[];
}

export interface Command {
  /** '' for the app, which runs without a command name. */
  name: string;
  /** The positional arguments, as help shows them. */
  usage?: string;
  summary: string;
  flags: Flags;
  run(ctx: CommandContext): Promise<number>;
}

/** Bad usage: exit 2, with the sentence. */
export class UsageError extends Error {}

export function positiveInt(raw: unknown, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number of at least 1, got "${String(raw)}"`);
  return n;
}

/** Runs `parse`, turning what it throws into a usage error (a bad flag value). */
export function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The flags every command takes. */
export const COMMON_FLAGS: Flags = {
  config: { type: 'string', value: 'FILE', description: 'a JSON configuration file (default ./slidetriage.json when present)' },
  set: { type: 'string', multiple: true, value: 'KEY=VALUE', description: 'override one configuration value, e.g. --set images.maxPixels=1000000' },
  backend: { type: 'string', value: 'NAME', description: 'auto, tensorflow-gpu, tensorflow, wasm or cpu' },
  model: { type: 'string', value: 'DIR', description: 'model bundle (default: the current version, else the shipped models/default)' },
  incoming: { type: 'string', value: 'DIR', description: 'the folder the app watches and scan reads (default ./incoming)' },
  quiet: { type: 'boolean', short: 'q', description: 'no progress lines on stderr' },
  help: { type: 'boolean', short: 'h', description: 'this text; with a command, that command’s' },
};

// slidetriage: the interactive app by default, headless subcommands for scripts. The commands declare
// their flags (src/commands/); this file parses the command line, checks each flag belongs to the
// command, builds the configuration and runs the command.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, mergeConfig, overridesFromPairs, type Config } from './config.js';
import { processOutput, stopWhenStdoutReaderGoes } from './headless/output.js';
import { currentModelDir } from './engine/version-pointer.js';
import { COMMON_FLAGS, UsageError, type Command, type Flags } from './commands/command.js';
import { COMMANDS, findCommand } from './commands/index.js';
import { usage } from './commands/help.js';
import { visibleLines } from './core/safe-text.js';

/** Every flag of every command: the command is found first, then its flags are checked. */
function parserOptions(): ParseArgsConfig['options'] {
  const all: Flags = { ...COMMON_FLAGS };
  for (const c of COMMANDS) Object.assign(all, c.flags);
  return Object.fromEntries(Object.entries(all).map(([name, f]) => [name, { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) }]));
}

function configFrom(values: Record<string, unknown>): Config {
  let overrides = overridesFromPairs((values.set as string[] | undefined) ?? []);
  const flags: Record<string, unknown> = {};
  if (values.backend) flags.backend = values.backend;
  if (values.model) flags.model = values.model;
  if (values.incoming) flags.incoming = values.incoming;
  overrides = mergeConfig(overrides, flags as never);
  return loadConfig({ file: values.config as string | undefined, overrides });
}

/** A flag given to a command that does not take it is bad usage, not silently ignored. */
function checkFlags(command: Command, values: Record<string, unknown>): void {
  const foreign = Object.keys(values).filter((f) => !(f in COMMON_FLAGS) && !(f in command.flags));
  const name = command.name || 'the app';
  if (foreign.length)
    throw new UsageError(
      `${foreign.map((f) => `--${f}`).join(', ')} ${foreign.length > 1 ? 'are not flags' : 'is not a flag'} of ${name} (slidetriage ${command.name ? `${command.name} ` : ''}--help lists them)`,
    );
}

let helpFor: Command | undefined;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: parserOptions(), allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const positionals = parsed.positionals;
  const [name, ...args] = positionals;
  const command = findCommand(name);
  if (!command) throw new UsageError(`unknown command "${name}"`);
  helpFor = command.name ? command : undefined;
  if (values.help) {
    process.stdout.write(usage(helpFor));
    return 0;
  }
  checkFlags(command, values);
  let config = configFrom(values);
  // A promoted model version replaces the default unless --model names a bundle.
  const defaultModel = config.model;
  if (!values.model) config = { ...config, model: await currentModelDir(config.versions, config.model) };
  return command.run({ values, args, config, defaultModel, out: processOutput(values.quiet as boolean | undefined), argv });
}

stopWhenStdoutReaderGoes();

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`error: ${visibleLines(err.message)}\n\n${err instanceof UsageError ? usage(helpFor) : ''}`);
      process.exitCode = 2;
      return;
    }
    // A clear sentence for the user; the stack only when asked for (SLIDETRIAGE_DEBUG=1).
    const e = err as Error;
    process.stderr.write(`error: ${visibleLines(String(process.env.SLIDETRIAGE_DEBUG ? (e.stack ?? e) : (e.message ?? e)))}\n`);
    process.exitCode = 1;
  },
);

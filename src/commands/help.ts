// `--help` and docs/commands.md's command list, made from the commands' declarations.
import { COMMON_FLAGS, type Command, type FlagSpec } from './command.js';
import { COMMANDS } from './index.js';

const TITLE = 'slidetriage — triage of blood-smear images for Acute Lymphoblastic Leukaemia';

function flagLine(name: string, f: FlagSpec): string {
  const head = `${f.short ? `-${f.short}, ` : ''}--${name}${f.value ? ` ${f.value}` : ''}`;
  return `    ${head.padEnd(34)} ${f.description}${f.default !== undefined ? ` (default ${f.default})` : ''}${f.multiple ? ' (may be repeated)' : ''}`;
}

function commandLine(c: Command): string {
  return `  slidetriage${c.name ? ` ${c.name}` : ''}${c.usage ? ` ${c.usage}` : ''}`;
}

/** One command: its line, what it does, its flags. */
export function commandHelp(c: Command): string {
  const flags = Object.entries(c.flags).map(([n, f]) => flagLine(n, f));
  return [commandLine(c), `      ${c.summary}`, ...flags].join('\n');
}

export function usage(command?: Command): string {
  const common = Object.entries(COMMON_FLAGS).map(([n, f]) => flagLine(n, f));
  const body = command ? [commandHelp(command)] : COMMANDS.map(commandHelp);
  return `${TITLE}\n\nUsage:\n${body.join('\n\n')}\n\nOptions for every command:\n${common.join('\n')}\n`;
}

/** One line a command, for the README's command block (between its generated-list markers). */
export function commandsSynopsis(): string {
  const lines = COMMANDS.map((c) => commandLine(c).trim());
  const width = Math.max(...lines.map((l) => l.length)) + 2;
  return lines.map((l, i) => `${l.padEnd(width)}# ${COMMANDS[i].summary.split(/[:;(,]/)[0].trim()}`).join('\n');
}

/** The commands as a Markdown list (docs/commands.md, between its generated-list markers). */
export function commandsMarkdown(): string {
  return COMMANDS.map(
    (c) =>
      `- \`${commandLine(c).trim()}\`: ${c.summary}${
        Object.keys(c.flags).length
          ? `. Flags: ${Object.keys(c.flags)
              .map((f) => `\`--${f}\``)
              .join(', ')}`
          : ''
      }`,
  ).join('\n');
}

// Where headless commands write: results on stdout, diagnostics on stderr (so pipes stay clean).
export interface Output {
  stdout(line: string): void;
  info(line: string): void;
  error(line: string): void;
}

export function processOutput(quiet = false): Output {
  return {
    stdout: (line) => process.stdout.write(line + '\n'),
    info: (line) => {
      if (!quiet) process.stderr.write(line + '\n');
    },
    error: (line) => process.stderr.write(`error: ${line}\n`),
  };
}

/** Collects lines, for tests. */
export function memoryOutput(): Output & { lines: { stdout: string[]; info: string[]; error: string[] } } {
  const lines = { stdout: [] as string[], info: [] as string[], error: [] as string[] };
  return {
    lines,
    stdout: (l) => lines.stdout.push(l),
    info: (l) => lines.info.push(l),
    error: (l) => lines.error.push(l),
  };
}

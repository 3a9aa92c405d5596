// Where headless commands write: results on stdout, diagnostics on stderr (so pipes stay clean). Every line
// goes through the sanitiser's net: our lines carry no escapes of their own, so any control character in one
// came from a file name, a class name or an error message and is shown, never obeyed.
import { visibleLines } from '../core/safe-text.js';

export interface Output {
  stdout(line: string): void;
  info(line: string): void;
  error(line: string): void;
  /** Aborted once nobody reads the results any more (`predict … | head -1`): a long command stops at its next step. */
  readonly stopped?: AbortSignal;
}

const readerGone = new AbortController();

/**
 * A reader that went away is not an error: Unix tools stop quietly. The command is asked to stop rather than the
 * process exiting on the spot, since exiting while the engine's worker is inside ONNX Runtime aborts the process
 * (`terminate called after throwing an instance of 'Napi::Error'`, seen once in 30 runs).
 */
export function stopWhenStdoutReaderGoes(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    readerGone.abort();
  });
}

export function processOutput(quiet = false): Output {
  return {
    stdout: (line) => {
      if (!readerGone.signal.aborted) process.stdout.write(visibleLines(line) + '\n');
    },
    info: (line) => {
      if (!quiet) process.stderr.write(visibleLines(line) + '\n');
    },
    error: (line) => process.stderr.write(`error: ${visibleLines(line)}\n`),
    stopped: readerGone.signal,
  };
}

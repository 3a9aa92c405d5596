// ONNX Runtime 1.30 reads /proc/self/cmdline when it opens a session and recurses on it byte by byte:
// a command line of ~10 KB (`slidetriage predict incoming/*.jpg` over a few hundred slides) overflows
// the engine worker's stack and the process dies with a segmentation fault. So a long command line is
// handed to a child process through a private file, and the child runs with a short command line.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ARGS_FILE_ENV = 'SLIDETRIAGE_ARGS_FILE';
/** Bytes of command line above which the arguments travel by file (ORT was seen to crash at ~10 KB). */
export const MAX_COMMAND_LINE_BYTES = 2048;

export function commandLineBytes(argv) {
  return argv.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
}

/** In the child: puts the arguments from the file back into process.argv and removes the file. */
function takeRelayedArguments() {
  const file = process.env[ARGS_FILE_ENV];
  if (!file) return false;
  delete process.env[ARGS_FILE_ENV];
  const args = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  process.argv = [process.argv[0], process.argv[1], ...args];
  return true;
}

/**
 * When this process's command line is too long, runs the same entry point again with the arguments
 * in a file and resolves to the child's exit code; otherwise (the child included: it takes its
 * arguments back and never relays again) resolves to null: run here.
 */
export function relayLongCommandLine(entry, maxBytes = MAX_COMMAND_LINE_BYTES) {
  if (takeRelayedArguments()) return Promise.resolve(null);
  const args = process.argv.slice(2);
  if (commandLineBytes([...process.execArgv, ...process.argv]) <= maxBytes) return Promise.resolve(null);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slidetriage-args-'));
  const file = path.join(dir, 'args.json');
  fs.writeFileSync(file, JSON.stringify(args), { mode: 0o600 });
  const child = spawn(process.execPath, [...process.execArgv, entry], { stdio: 'inherit', env: { ...process.env, [ARGS_FILE_ENV]: file } });
  // Ctrl-C reaches the child from the terminal itself (same process group): the parent only waits.
  const ignore = () => {};
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  return new Promise((resolve) => {
    const done = (code) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
      fs.rmSync(dir, { recursive: true, force: true });
      resolve(code);
    };
    child.on('error', (err) => {
      process.stderr.write(`error: cannot start slidetriage again for its long command line: ${err.message}\n`);
      done(1);
    });
    child.on('exit', (code, signal) => done(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
  });
}

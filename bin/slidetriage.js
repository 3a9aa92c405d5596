#!/usr/bin/env node
// Entry shim. An installed package (npm pack: dist/ and no src/) runs the compiled JavaScript; a clone
// runs the TypeScript sources through tsx, so that it works without a build step (and never runs a
// stale dist/ left by a build).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { relayLongCommandLine } from './long-command-line.js';

const relayedExitCode = await relayLongCommandLine(fileURLToPath(import.meta.url));
const installed = !fs.existsSync(new URL('../src/cli.tsx', import.meta.url)) && fs.existsSync(new URL('../dist/cli.js', import.meta.url));
if (relayedExitCode !== null) {
  process.exitCode = relayedExitCode;
} else if (installed) {
  await import('../dist/cli.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.tsx');
}

#!/usr/bin/env node
// Entry shim: runs the TypeScript sources through tsx so that a clone works without a build step.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
import { relayLongCommandLine } from './long-command-line.js';

const relayedExitCode = await relayLongCommandLine(fileURLToPath(import.meta.url));
if (relayedExitCode === null) {
  register();
  await import('../src/cli.tsx');
} else {
  process.exitCode = relayedExitCode;
}

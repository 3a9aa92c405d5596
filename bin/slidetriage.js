#!/usr/bin/env node
// Entry shim. An installed package (npm pack: dist/ and no src/) runs the compiled JavaScript; a clone
// runs the TypeScript sources through tsx, so that it works without a build step (and never runs a
// stale dist/ left by a build).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { relayLongCommandLine } from './long-command-line.js';

// React's development build times every render into the global performance timeline (React 19's
// performance tracks) and diffs the props of each: in the app that grew the heap until garbage collection
// froze the zoom view for 0.2–3 s at a time. A technician runs the production build; tests set their own.
process.env.NODE_ENV ??= 'production';

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

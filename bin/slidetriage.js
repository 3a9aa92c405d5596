#!/usr/bin/env node
// Entry shim: runs the TypeScript sources through tsx so that a clone works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.tsx');

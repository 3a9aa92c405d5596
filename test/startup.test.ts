// `slidetriage --help` must not load TensorFlow.js or ONNX Runtime (issue #22): they cost about 0.4 s of
// start-up and belong to the engine's worker thread.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

describe('start-up', () => {
  it('--help loads neither TensorFlow.js nor ONNX Runtime', async () => {
    const { stdout, stderr } = await run(process.execPath, ['--import', './test/support/trace-heavy-imports.mjs', 'bin/slidetriage.js', '--help'], { cwd: ROOT });
    expect(stdout).toMatch(/^slidetriage — triage/);
    expect(stderr.split('\n').filter((l) => l.startsWith('HEAVY-IMPORT'))).toEqual([]);
  });
});

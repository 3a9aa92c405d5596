// `slidetriage --help` and the app's first frame must not load TensorFlow.js or ONNX Runtime in the main
// thread (issue #22): they cost start-up time and belong to the engine's worker thread.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

describe('start-up', () => {
  it('--help loads neither TensorFlow.js nor ONNX Runtime', async () => {
    const { stdout, stderr } = await run(process.execPath, ['--import', './test/support/trace-heavy-imports.mjs', 'bin/slidetriage.js', '--help'], { cwd: ROOT });
    expect(stdout).toMatch(/^slidetriage — triage/);
    expect(stderr.split('\n').filter((l) => l.startsWith('HEAVY-IMPORT'))).toEqual([]);
  });

  it('the app draws its first frame without TensorFlow.js or ONNX Runtime in the main thread', async () => {
    const cwd = await tempDir();
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.CI; // Ink would hold every frame back until the end
    const app = spawn(process.execPath, ['--import', path.join(ROOT, 'test/support/probe-heavy-globals.mjs'), path.join(ROOT, 'bin/slidetriage.js')], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    app.stdout.on('data', (d: Buffer) => (out += d.toString()));
    app.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      // The first frame, and the engine's model loaded in its worker (so the main thread had every chance).
      for (let i = 0; i < 600 && !/watcher watching/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 600 && !/slidetriage-lite0-cells@/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/slidetriage-lite0-cells@/);
      app.kill('SIGUSR2');
      for (let i = 0; i < 50 && !/PROBE/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
      expect(err).toMatch(/PROBE \[\]/);
    } finally {
      app.kill('SIGKILL');
    }
  }, 90_000);
});

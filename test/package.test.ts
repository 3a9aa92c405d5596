// The package a lab installs: `npm pack` (which builds dist/), `npm install -g` into a temporary prefix,
// then, from another folder, `slidetriage --help`, `predict` on an image and the app's first frame, all on
// the compiled JavaScript (the package has no src/, so no tsx). Dependencies come from npm's cache where it
// has them (--prefer-offline); where the registry cannot be reached the test skips, saying so.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, tempDir } from './helpers.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const NETWORK = /ENOTFOUND|EAI_AGAIN|ENOTCACHED|ETIMEDOUT|ECONNREFUSED|ECONNRESET/;
let bin: string | null = null;
let skipped: string | null = null;
let work: string;
let dir: string;

// The tarball and its installation take about 900 MB: gone after the file, or a few runs fill the disk.
afterAll(() => {
  for (const d of [dir, work]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

beforeAll(async () => {
  dir = await tempDir('slidetriage-pack-');
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
  const { stdout } = await run('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: ROOT, env, maxBuffer: 64 * 2 ** 20 });
  const tarball = path.join(dir, stdout.trim().split('\n').at(-1)!);
  const prefix = path.join(dir, 'prefix');
  try {
    await run('npm', ['install', '-g', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env, maxBuffer: 64 * 2 ** 20 });
  } catch (err) {
    const text = String((err as { stderr?: string }).stderr ?? err);
    if (!NETWORK.test(text)) throw err;
    skipped = `package test skipped: npm install could not reach the registry (${text.match(NETWORK)![0]})`;
    console.warn(skipped);
    return;
  }
  bin = path.join(prefix, 'bin', 'slidetriage');
  work = await tempDir('slidetriage-installed-');
  expect(fs.existsSync(path.join(prefix, 'lib', 'node_modules', 'slidetriage', 'src'))).toBe(false);
}, 240_000);

describe('the installed package', () => {
  it('runs --help and predict from another folder, on the compiled JavaScript', async (t) => {
    if (!bin) return t.skip();
    const help = await run(bin, ['--help'], { cwd: work });
    expect(help.stdout).toMatch(/^slidetriage — triage/);
    const predicted = await run(bin, ['predict', path.join(FIXTURES, 'samples', 'cnmc-hem-H11-10-1.png')], { cwd: work });
    expect(predicted.stdout).toMatch(/cnmc-hem-H11-10-1\.png\t(Benign|Early|Pre|Pro)\t/);
  }, 120_000);

  it('opens the app with the shipped model', async (t) => {
    if (!bin) return t.skip();
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.CI;
    const app = spawn(bin, [], { cwd: work, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    app.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      for (let i = 0; i < 600 && !/slidetriage-lite0-cells@/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/watcher watching/);
      expect(out).toMatch(/slidetriage-lite0-cells@/);
    } finally {
      app.kill('SIGKILL');
    }
  }, 120_000);
});

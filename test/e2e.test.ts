// The real app in a pseudo-terminal (tmux): an image copied into the incoming folder appears, gets a
// prediction, is confirmed with a key, and its label is in the store.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentLabel } from '../src/store/schema.js';
import { openStore } from '../src/store/store.js';
import { FIXTURES, makeBundle, tempDir } from './helpers.js';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'slidetriage.js');
const session = `slidetriage-e2e-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', session);

async function waitForScreen(text: RegExp, ms = 60_000): Promise<string> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    last = screen();
    if (text.test(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${text}; the screen was:\n${last}`);
}

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

afterAll(() => {
  try {
    tmux('kill-session', '-t', session);
  } catch {
    // already gone
  }
});

describe('end to end in a terminal', () => {
  it('an image dropped in the incoming folder is predicted, confirmed with Enter, and stored', async () => {
    const cwd = await tempDir();
    const model = path.join(cwd, 'model');
    await makeBundle(model, { size: 32, classes: ['Benign', 'Early', 'Pre', 'Pro'] });
    // CI=true would make Ink print only its last frame; the app must draw as in a real terminal.
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', '-c', cwd, `env -u CI TERM=xterm-256color ${process.execPath} ${BIN} --model ${model}`);
    await waitForScreen(/watcher watching/);
    await waitForScreen(/test-untrained@/);
    await fs.copyFile(path.join(FIXTURES, 'samples/cnmc-hem-H11-10-1.png'), path.join(cwd, 'incoming', 'new slide.png'));
    const queued = await waitForScreen(/› to review\s+(Benign|Early|Pre|Pro)\s+\d+\.\d%.*new slide\.png/);
    const predicted = queued.match(/› to review\s+(\w+)/)![1];
    tmux('send-keys', '-t', session, 'Enter');
    await waitForScreen(/Slide 1\/1 — new slide\.png/);
    tmux('send-keys', '-t', session, 'Enter');
    await waitForScreen(new RegExp(`confirmed ${predicted}`));
    const store = await openStore(path.join(cwd, 'data/store.db'));
    const data = await store.dump();
    const [slide] = Object.values(data.slides);
    expect(slide.path).toBe('new slide.png');
    expect(currentLabel(data, slide.sha256)).toMatchObject({ label: predicted, action: 'confirm' });
    tmux('send-keys', '-t', session, 'q');
    await new Promise((r) => setTimeout(r, 1500));
    expect(() => screen()).toThrow(); // the session ended with the app
  }, 120_000);
});

// Issue #34, item 1: a file name (or a note, a display name, a class name) never reaches the terminal or a CSV
// with its control characters live. OSC 52 writes the clipboard, OSC 0 retitles, CSI 2J clears, APC talks to
// kitty, BEL rings, and U+009B is CSI to terminals that honour C1.
/* eslint-disable no-control-regex -- control characters are what these tests look for */
import fs from 'node:fs/promises';
import path from 'node:path';
import React from 'react';
import { render } from 'ink-testing-library';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { csvField, safeFrame, safeJson, visible, visibleLines } from '../src/core/safe-text.js';
import { ImagePainter } from '../src/terminal/painter.js';
import { App } from '../src/app.js';
import { EngineProvider } from '../src/contexts/EngineContext.js';
import { StoreProvider } from '../src/contexts/StoreContext.js';
import { EngineClient } from '../src/engine/client.js';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/store/store.js';
import { FakeEngineClient } from './support/fake-engine.js';
import { cli } from './support/cli.js';
import { FIXTURES, makeBundle, tempDir } from './helpers.js';

const OSC52 = '\u001b]52;c;cHduZWQ=\u0007';
const HOSTILE = [OSC52, '\u001b]0;owned\u0007', '\u001b[2J', '\u001b_Ga=d\u001b\\', '\u0007', '\u009b31m', '\u202egpj.exe'];
/** Any control character a terminal would act on, C0 (but newline and tab), DEL and C1. */
const LIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('the sanitiser', () => {
  it('shows every control character of an untrusted string as its escape, one line', () => {
    expect(visible(`a${OSC52}.jpg`)).toBe('a\\x1b]52;c;cHduZWQ=\\x07.jpg');
    expect(visible('line\nbreak\ttab')).toBe('line\\x0abreak\\x09tab');
    expect(visible('\u009b2J \u202eexe')).toBe('\\x9b2J \\u202eexe');
    expect(visible('slide №1 (copy) ü.jpg')).toBe('slide №1 (copy) ü.jpg');
    for (const h of HOSTILE) expect(visible(h)).not.toMatch(LIVE);
  });

  it('keeps the lines and tabs of whole output lines, and JSON and CSV stay exact for their readers', () => {
    expect(visibleLines(`a\tb\n${OSC52}`)).toBe('a\tb\n\\x1b]52;c;cHduZWQ=\\x07');
    const json = safeJson({ path: `x${OSC52}\u009by` });
    expect(json).not.toMatch(LIVE);
    expect(JSON.parse(json).path).toBe(`x${OSC52}\u009by`);
    expect(csvField(`a,"b"${OSC52}`)).toBe('"a,""b""\\x1b]52;c;cHduZWQ=\\x07"');
    expect(csvField(null)).toBe('');
  });

  it("disarms every escape in an Ink frame but Ink's own CSI sequences", () => {
    const frame = `\u001b[?2026h\u001b[2K\u001b[1A\u001b[32mok\u001b[39m ${OSC52} \u001b_Gq=2\u001b\\ \u009b2J\n\u001b[?2026l`;
    const safe = safeFrame(frame);
    expect(safe).toContain('\u001b[32mok\u001b[39m');
    expect(safe.startsWith('\u001b[?2026h\u001b[2K\u001b[1A')).toBe(true);
    expect(safe).toContain('\\x1b]52;c;cHduZWQ=\\x07');
    expect(safe).toContain('\\x1b_Gq=2\\x1b\\');
    expect(safe).toContain('\\x9b2J');
  });

  it("the painter passes Ink's frames through that net, and its own image escapes untouched", () => {
    const written: string[] = [];
    const stream = { write: (s: string) => written.push(s), rows: 24 } as unknown as NodeJS.WriteStream;
    const painter = new ImagePainter(stream, false);
    painter.install();
    stream.write(`queue ${OSC52}\n`);
    painter.send('\u001b_Ga=T,f=100;AAAA\u001b\\');
    painter.uninstall();
    expect(written[0]).toBe('queue \\x1b]52;c;cHduZWQ=\\x07\n');
    expect(written[1]).toBe('\u001b_Ga=T,f=100;AAAA\u001b\\');
  });
});

describe('hostile names through the real commands and the app', () => {
  let modelDir: string;
  beforeAll(async () => {
    tf.env().set('PROD', true);
    await tf.setBackend('cpu');
    modelDir = await tempDir();
    await makeBundle(modelDir, { size: 32 });
  });

  it('predict prints hostile file names visibly in text, CSV and JSON', async () => {
    const dir = await tempDir();
    const names = [`${OSC52}.jpg`, '\u001b]0;owned\u0007.jpg', '\u001b[2J.jpg', '\u009b31m.jpg'];
    for (const n of names) await fs.copyFile(path.join(FIXTURES, 'samples/cnmc-all-14-26-2.jpg'), path.join(dir, n));
    await fs.writeFile(path.join(dir, `bad${OSC52}.png`), 'not an image');
    for (const format of [[], ['--csv'], ['--json']]) {
      const r = await cli(dir, ['predict', '.', '--model', modelDir, '--backend', 'wasm', ...format]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(format.length && format[0] === '--csv' ? 6 : 5);
      expect(r.stdout).not.toMatch(LIVE);
      expect(r.stderr).not.toMatch(LIVE);
      if (format[0] !== '--json') expect(r.stdout).toContain('\\x1b]52;c;cHduZWQ=\\x07.jpg');
    }
  });

  it("export's labels.csv shows a hostile display name, note and file name visibly", async () => {
    const cwd = await tempDir();
    await fs.mkdir(path.join(cwd, 'incoming'));
    await fs.copyFile(path.join(FIXTURES, 'samples/cnmc-all-14-26-2.jpg'), path.join(cwd, 'incoming', `${OSC52}.jpg`));
    expect((await cli(cwd, ['scan'])).code).toBe(0);
    const store = await openStore(path.join(cwd, 'data/store.db'), { technician: 'eve', displayName: `Eve${OSC52}` });
    const sha = Object.values((await store.dump()).files)[0].sha256!;
    await store.decide({ sha256: sha, action: 'correct', label: 'Benign', modelId: null, predicted: null, probabilities: null, note: `see \u001b[2J` });
    await store.close();
    const r = await cli(cwd, ['export', '--format', 'csv', '--out', 'out']);
    expect(r.code, r.stderr).toBe(0);
    const csv = await fs.readFile(path.join(cwd, 'out/labels.csv'), 'utf8');
    expect(csv).not.toMatch(LIVE);
    expect(csv).toContain('Eve\\x1b]52;c;cHduZWQ=\\x07');
    expect(csv).toContain('see \\x1b[2J');
  });

  it("the app's queue, slide, note and status bar show hostile names visibly", async () => {
    const cwd = await tempDir();
    const config = loadConfig({ cwd, overrides: { model: modelDir, backend: 'wasm' } });
    const store = await openStore(config.store, { technician: 'alice', displayName: null });
    const sha = 'b'.repeat(64);
    const name = `${OSC52}\u001b[2J.jpg`;
    await store.importRecords({
      slides: [{ sha256: sha, path: name, width: 100, height: 100, addedAt: '2026-11-28T10:00:00.000Z' }],
      files: [
        { path: name, state: 'queued', sha256: sha, duplicateOf: null, code: null, reason: null, size: 1, mtimeMs: 1, seenAt: '' },
        { path: `\u001b]0;owned\u0007.png`, state: 'rejected', sha256: null, duplicateOf: null, code: 'undecodable', reason: 'bad \u0007 bytes', size: 1, mtimeMs: 1, seenAt: '' },
      ],
    });
    const engine = new EngineClient();
    const info = await engine.call('init', { backend: 'wasm', threads: 1 }).then(() => engine.call('load', { modelDir }));
    await engine.close();
    const ui = render(
      <EngineProvider config={config} client={new FakeEngineClient(info).asClient()}>
        <StoreProvider config={config} store={store} watch={false}>
          <App config={config} technician={`Mallory\u001b]0;x\u0007 (mallory)`} />
        </StoreProvider>
      </EngineProvider>,
    );
    try {
      const seen: string[] = [];
      const until = async (re: RegExp) => {
        for (let i = 0; i < 400; i++) {
          const f = ui.lastFrame() ?? '';
          seen.push(f);
          if (re.test(f)) return f;
          await new Promise((r) => setTimeout(r, 40));
        }
        throw new Error(`timed out waiting for ${re}: ${ui.lastFrame()}`);
      };
      await until(/\\x1b\]52;c;cHduZWQ=\\x07\\x1b\[2J\.jpg/);
      await until(/Mallory\\x1b\]0;x\\x07/);
      ui.stdin.write('\r');
      await until(/Slide 1\/1 — \\x1b\]52/);
      ui.stdin.write('n');
      await new Promise((r) => setTimeout(r, 100));
      ui.stdin.write('a\u001b]0;t\u0007b');
      await new Promise((r) => setTimeout(r, 200));
      // No frame ever carried an OSC, a BEL or a CSI 2J that came from data.
      for (const f of [...seen, ...ui.frames]) expect(f).not.toMatch(/\u001b\]|\u0007|\u001b\[2J|\u009b/);
    } finally {
      ui.unmount();
      await store.close();
    }
  });
});

// `npm run bench:ui [-- MODEL_DIR] [--slides N]`: milliseconds from a key press to the next frame Ink
// writes, while the engine worker classifies a batch of images (goal: under 50 ms), from a decision key
// to its journal line fsynced on disk (goal: 20 ms median), with a store of N slides (default 200), and
// in the zoom view drawn with sixel (8 × 15 px cells, 100 × 30): key → frame and key → picture written;
// and the bytes each key sends (over SSH they are the cost): goals ≤ 2 KB for a key that changes no
// picture, ≤ 150 KB for the next slide in sixel (issue #36).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import React from 'react';
import { render } from 'ink';
import { App } from '../src/app.js';
import { EngineProvider } from '../src/contexts/EngineContext.js';
import { StoreProvider } from '../src/contexts/StoreContext.js';
import { EngineClient } from '../src/engine/client.js';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/store/store.js';
import type { SlideStore } from '../src/store/types.js';
import { GraphicsProvider } from '../src/contexts/GraphicsContext.js';
import { ImagePainter } from '../src/terminal/painter.js';
import type { Graphics } from '../src/terminal/detect.js';
import { loadBundle } from '../src/engine/bundle.js';
import * as tf from '@tensorflow/tfjs';

/** A terminal-like stdout that records when each frame is written. */
class FrameClock extends EventEmitter {
  columns = 100;
  rows = 30;
  isTTY = true;
  writes: number[] = [];
  /** Bytes of each write, in order. */
  sizes: number[] = [];
  /** When a sixel picture was last written. */
  pictures: number[] = [];
  write(chunk: string) {
    this.writes.push(performance.now());
    this.sizes.push(Buffer.byteLength(chunk));
    if (chunk.includes('\u001bP')) this.pictures.push(performance.now());
    return true;
  }
}

/** A stdin that Ink accepts as a TTY in raw mode. */
class KeyStdin extends EventEmitter {
  isTTY = true;
  private queue: string[] = [];
  setRawMode() {}
  setEncoding() {}
  ref() {}
  unref() {}
  resume() {}
  pause() {}
  read() {
    return this.queue.shift() ?? null;
  }
  press(s: string) {
    this.queue.push(s);
    this.emit('readable');
    this.emit('data', s);
  }
}

const percentile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function main() {
  tf.env().set('PROD', true);
  const cwd = await fs.mkdtemp(path.join(os.tmpdir(), 'slidetriage-bench-ui-'));
  const args = process.argv.slice(2);
  const slidesAt = args.indexOf('--slides');
  const nSlides = slidesAt >= 0 ? Number(args.splice(slidesAt, 2)[1]) : 200;
  const modelDir = args[0] ?? path.resolve('models/default');
  const config = loadConfig({ cwd, overrides: { model: modelDir } });
  const { manifest } = await loadBundle(modelDir);
  const store = await openStore(config.store);
  // Slides with predictions, so the queue has something to move through, each with maps
  // (a 450 px C-NMC image stands for the slide and its maps) for the zoom.
  const maps = await fakeMaps(path.dirname(config.store), config.explain.slideMethods);
  const classes = manifest.spec.classes;
  const shas = Array.from({ length: nSlides }, (_, i) => i.toString(16).padStart(64, '0'));
  await store.importRecords({
    slides: shas.map((sha, i) => ({ sha256: sha, path: `slide-${i}.png`, width: 100, height: 100, addedAt: new Date(1e12 + i).toISOString() })),
    predictions: shas.map((sha, i) => {
      const p = Object.fromEntries(classes.map((c, k) => [c, k === i % classes.length ? 0.6 : 0.4 / (classes.length - 1)]));
      return { sha256: sha, prediction: { modelId: manifest.id, label: classes[i % classes.length], probabilities: p, at: '', explanations: maps } };
    }),
  });
  const client = new EngineClient();
  const stdout = new FrameClock();
  const stdin = new KeyStdin();
  const graphics: Graphics = { protocol: 'sixel', colour: 'truecolor', cell: { width: 8, height: 15 }, passthrough: false, reason: 'bench' };
  const painter = new ImagePainter(stdout as unknown as NodeJS.WriteStream, false);
  painter.install();
  const app = render(
    <GraphicsProvider value={{ graphics, painter }}>
      <EngineProvider config={config} client={client}>
        <StoreProvider config={config} store={store} watch={false}>
          <App config={config} technician="bench" />
        </StoreProvider>
      </EngineProvider>
    </GraphicsProvider>,
    { stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, exitOnCtrlC: false, patchConsole: false },
  );
  await new Promise((r) => setTimeout(r, 8000)); // engine up, model loaded
  // Keep the engine busy: a long classification in the worker while keys are pressed.
  const size = manifest.spec.inputSize;
  const busy = client.start('classify', { inputs: Array.from({ length: 400 }, () => new Float32Array(size * size * 3).fill(0.5)), batch: 8 });
  const latencies: number[] = [];
  for (let i = 0; i < 120; i++) {
    const before = stdout.writes.length;
    const t0 = performance.now();
    stdin.press(i % 2 ? 'k' : 'j');
    while (stdout.writes.length === before && performance.now() - t0 < 2000) await new Promise((r) => setImmediate(r));
    latencies.push((stdout.writes[before] ?? performance.now()) - t0);
    await new Promise((r) => setTimeout(r, 40));
  }
  const bytes = await bytesPerKey(stdin, stdout);
  const zoom = await zoomLatencies(stdin, stdout);
  const durable = await decisionLatencies(store, stdin);
  busy.cancel();
  await busy.result.catch(() => undefined);
  app.unmount();
  await client.close();
  const line = (xs: number[], goal: string) => `median ${percentile(xs, 0.5).toFixed(1)} ms, p95 ${percentile(xs, 0.95).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (goal: ${goal})`;
  process.stdout.write(`store: ${nSlides} slides, ${((await fs.stat(config.store)).size / 2 ** 20).toFixed(1)} MB\n`);
  process.stdout.write(`key press → next frame, ${latencies.length} presses while the engine classifies (${manifest.id}, ${size} px):\n${line(latencies, 'under 50 ms')}\n`);
  process.stdout.write(
    `zoom view in sixel, ${zoom.frame.length} presses of Tab / + / − (next map, opacity):\nkey → frame: ${line(zoom.frame, 'under 50 ms')}\nkey → picture written: ${line(zoom.picture, 'none set')}\n`,
  );
  process.stdout.write(`bytes written per key (sixel, 100 × 30; until the screen is quiet for 600 ms):\n${bytesTable(bytes)}\n`);
  process.stdout.write(
    `decision key → its journal line fsynced, ${durable.ms.length} decisions (${durable.refused} keys refused: the next slide not drawn yet):\n${line(durable.ms, '20 ms median')}\n`,
  );
}

interface KeyBytes {
  what: string;
  goal: string;
  /** Bytes after each press, and the writes (frames) they came in. */
  bytes: number[];
  frames: number[];
}

/** Presses `key` n times (each after `before`), and sums what is written until nothing comes for 600 ms. */
async function measureKey(stdin: KeyStdin, stdout: FrameClock, key: string, n: number, before?: () => Promise<void>): Promise<{ bytes: number[]; frames: number[] }> {
  const bytes: number[] = [];
  const frames: number[] = [];
  for (let i = 0; i < n; i++) {
    await before?.();
    await quiet(stdout);
    const from = stdout.sizes.length;
    stdin.press(key);
    await quiet(stdout);
    const sizes = stdout.sizes.slice(from);
    bytes.push(sizes.reduce((a, b) => a + b, 0));
    frames.push(sizes.length);
  }
  return { bytes, frames };
}

/** Waits until nothing has been written for 600 ms. */
async function quiet(stdout: FrameClock): Promise<void> {
  for (;;) {
    const n = stdout.sizes.length;
    await new Promise((r) => setTimeout(r, 600));
    if (stdout.sizes.length === n) return;
  }
}

/** The queue's j / k, the slide view's note key (text only) and its Esc, and the next slide (Enter on the queue's next row). */
async function bytesPerKey(stdin: KeyStdin, stdout: FrameClock): Promise<KeyBytes[]> {
  const queue = await measureKey(stdin, stdout, 'j', 10);
  stdin.press('\r'); // the slide view, with its pictures
  let noteOpen = false;
  const note = await measureKey(stdin, stdout, 'n', 8, async () => {
    if (noteOpen) stdin.press('\u001b'); // closes the note line, staying on the slide
    noteOpen = true;
  });
  stdin.press('\u001b');
  await quiet(stdout);
  stdin.press('\u001b'); // back to the queue
  const next = await measureKey(stdin, stdout, '\r', 8, async () => {
    stdin.press('\u001b');
    await quiet(stdout);
    stdin.press('j');
  });
  stdin.press('\u001b');
  await quiet(stdout);
  return [
    { what: 'queue: j (a row down)', goal: '≤ 2 KB', ...queue },
    { what: 'slide view: n (the note line opens; no picture changes)', goal: '≤ 2 KB', ...note },
    { what: 'queue → the next slide’s view (Enter)', goal: '≤ 150 KB', ...next },
  ];
}

function bytesTable(rows: KeyBytes[]): string {
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  const lines = ['| key | presses | bytes per key, median | max | writes per key, median | bytes per write | goal |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const perWrite =
      r.bytes.reduce((a, b) => a + b, 0) /
      Math.max(
        1,
        r.frames.reduce((a, b) => a + b, 0),
      );
    lines.push(`| ${r.what} | ${r.bytes.length} | ${kb(percentile(r.bytes, 0.5))} | ${kb(Math.max(...r.bytes))} | ${percentile(r.frames, 0.5)} | ${kb(perWrite)} | ${r.goal} |`);
  }
  return lines.join('\n');
}

/** A picture for the slide and for each of its maps (the configured ones, so that no Tab waits for the engine). */
async function fakeMaps(storeDir: string, methods: string[]): Promise<Record<string, string>> {
  const dir = path.join(storeDir, 'explanations');
  await fs.mkdir(dir, { recursive: true });
  const source = path.resolve('fixtures/samples/cnmc-hem-H11-10-1.png');
  const maps: Record<string, string> = {};
  for (const m of ['image', ...methods, 'cam']) {
    await fs.copyFile(source, path.join(dir, `${m}.png`));
    maps[m] = path.join('explanations', `${m}.png`);
  }
  return maps;
}

/** Opens the first slide, zooms, and steps maps and opacity: key → Ink's frame, and key → the sixel written. */
async function zoomLatencies(stdin: KeyStdin, stdout: FrameClock, n = 40): Promise<{ frame: number[]; picture: number[] }> {
  stdin.press('g');
  await new Promise((r) => setTimeout(r, 300));
  stdin.press('\r');
  await new Promise((r) => setTimeout(r, 500));
  stdin.press('z');
  await new Promise((r) => setTimeout(r, 1000));
  const frame: number[] = [];
  const picture: number[] = [];
  for (let i = 0; i < n; i++) {
    const [writes, pictures] = [stdout.writes.length, stdout.pictures.length];
    const t0 = performance.now();
    stdin.press(['\t', '-', '+'][i % 3]);
    while (stdout.pictures.length === pictures && performance.now() - t0 < 3000) await new Promise((r) => setImmediate(r));
    frame.push((stdout.writes[writes] ?? performance.now()) - t0);
    picture.push((stdout.pictures[pictures] ?? performance.now()) - t0);
    await new Promise((r) => setTimeout(r, 100));
  }
  stdin.press('\u001b');
  stdin.press('g');
  await new Promise((r) => setTimeout(r, 300));
  return { frame, picture };
}

/**
 * Opens the first slide and decides slides one after another with number keys; for each, the time from
 * the key to the moment store.decide resolved (its journal line on disk). A key the app refuses because
 * the next slide is not drawn yet (a slow frame on a large store) is pressed again, and counted.
 */
async function decisionLatencies(store: SlideStore, stdin: KeyStdin, n = 60): Promise<{ ms: number[]; refused: number }> {
  const decide = store.decide.bind(store);
  let durableAt = 0;
  let called = false;
  store.decide = async (input) => {
    called = true;
    const done = await decide(input);
    durableAt = performance.now();
    return done;
  };
  stdin.press('\r');
  await new Promise((r) => setTimeout(r, 500));
  const ms: number[] = [];
  let refused = 0;
  while (ms.length < n && refused < 10 * n) {
    durableAt = 0;
    called = false;
    const t0 = performance.now();
    stdin.press(String((ms.length % 4) + 1));
    while (!durableAt && performance.now() - t0 < (called ? 30_000 : 1000)) await new Promise((r) => setImmediate(r));
    if (durableAt) ms.push(durableAt - t0);
    else refused++;
    await new Promise((r) => setTimeout(r, 150)); // the next slide is drawn before its key
  }
  return { ms, refused };
}

await main();

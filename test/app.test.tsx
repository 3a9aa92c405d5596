import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import React from 'react';
import { render } from 'ink-testing-library';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../src/app.js';
import { EngineProvider } from '../src/contexts/EngineContext.js';
import { StoreProvider } from '../src/contexts/StoreContext.js';
import { EngineClient } from '../src/engine/client.js';
import type { ModelInfo } from '../src/engine/protocol.js';
import { FakeEngineClient } from './support/fake-engine.js';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/store/store.js';
import type { SlideStore } from '../src/store/types.js';
import Database from 'better-sqlite3';
import { currentLabel } from '../src/store/schema.js';
import { KEYMAP } from '../src/keymap.js';
import { FIXTURES, makeBundle, tempDir } from './helpers.js';
import { decodeHalfBlocks } from '../src/components/halfblocks.js';

const clients: EngineClient[] = [];
const mounted: { unmount(): void }[] = [];
let modelDir: string;
let modelId: string;
let modelInfo: ModelInfo;

// A test that fails half-way leaves its app mounted (store poll, predictor, engine calls): unmount
// it here, before the engine workers close, so nothing of it runs into the file's teardown.
afterEach(() => {
  for (const ui of mounted.splice(0)) ui.unmount();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});
beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  modelDir = await tempDir();
  modelId = (await makeBundle(modelDir, { size: 32, classes: ['Benign', 'Early', 'Pre', 'Pro'] })).id;
  // What the real engine says of this bundle, for the fake one to answer the same.
  const engine = new EngineClient();
  await engine.call('init', { backend: 'wasm', threads: 1 });
  modelInfo = await engine.call('load', { modelDir });
  await engine.close();
});

async function waitFor(frame: () => string | undefined, text: RegExp, ms = 20_000): Promise<string> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const f = frame() ?? '';
    if (text.test(f)) return f;
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`timed out waiting for ${text}; last frame:\n${frame()}`);
}

const sha = (i: number) => i.toString(16).padStart(64, 'a');

/**
 * The app with its providers. UI tests run on a fake engine (no worker, no ONNX Runtime: test/support/
 * fake-engine.ts); the tests of what the engine does for the app (LIME/IG on `x`, a worker that dies)
 * get a fresh real one (closed after the file).
 */
function mount(config: ReturnType<typeof loadConfig>, store: SlideStore, technician: string, pollMs?: number, engine: 'fake' | 'real' = 'fake') {
  let client: EngineClient;
  if (engine === 'real') {
    client = new EngineClient();
    clients.push(client);
  } else {
    client = new FakeEngineClient(modelInfo).asClient();
  }
  const ui = render(
    <EngineProvider config={config} client={client}>
      <StoreProvider config={config} store={store} watch={false} pollMs={pollMs}>
        <App config={config} technician={technician} />
      </StoreProvider>
    </EngineProvider>,
  );
  mounted.push(ui);
  return ui;
}

/** A store with three predicted slides: margins 0.6 (a), 0.05 (b, the most uncertain) and 0.3 (c); `unusual`: those unlike the training images. */
async function setup(unusual: number[] = [], pollMs?: number, runtime: 'auto' | 'tfjs' = 'auto', engine: 'fake' | 'real' = 'fake') {
  const cwd = await tempDir();
  const config = loadConfig({ cwd, overrides: { model: modelDir, backend: 'wasm', runtime } });
  const store = await openStore(config.store, { technician: 'alice', displayName: null });
  const probs = [
    { Benign: 0.7, Early: 0.1, Pre: 0.1, Pro: 0.1 },
    { Benign: 0.05, Early: 0.45, Pre: 0.4, Pro: 0.1 },
    { Benign: 0.1, Early: 0.1, Pre: 0.2, Pro: 0.6 },
  ];
  await store.importRecords({
    slides: probs.map((_, i) => ({ sha256: sha(i), path: `slide-${'abc'[i]}.png`, width: 100, height: 100, addedAt: `2026-11-28T10:0${i}:00.000Z` })),
    files: probs.map((_, i) => ({ path: `slide-${'abc'[i]}.png`, state: 'queued', sha256: sha(i), duplicateOf: null, code: null, reason: null, size: 1, mtimeMs: 1, seenAt: '' })),
    predictions: probs.map((p, i) => {
      const label = Object.entries(p).sort((x, y) => y[1] - x[1])[0][0];
      const ood = unusual.includes(i) ? { distance: 0.42, threshold: 0.12, unusual: true } : { distance: 0.05, threshold: 0.12, unusual: false };
      return { sha256: sha(i), prediction: { modelId, label, probabilities: p, at: '', explanations: {}, ood } };
    }),
  });
  const ui = mount(config, store, 'alice', pollMs, engine);
  await waitFor(ui.lastFrame, /3 slide\(s\)/);
  await waitFor(ui.lastFrame, new RegExp(`model|${modelId.slice(0, 10)}`));
  return { ui, store, config };
}

const press = async (ui: { stdin: { write(s: string): void } }, keys: string) => {
  ui.stdin.write(keys);
  await new Promise((r) => setTimeout(r, 60));
};

/** Presses Space until a scrolling screen shows its last page; every page's frame, joined, and the last. */
async function pageThrough(ui: { stdin: { write(s: string): void }; lastFrame(): string | undefined }, first: string): Promise<{ text: string; frame: string }> {
  let frame = first;
  let text = frame;
  for (let page = 0; page < 20 && /more below/.test(frame); page++) {
    const at = frame.match(/lines (\d+)–/)![1];
    await press(ui, ' ');
    frame = await waitFor(ui.lastFrame, new RegExp(`lines (?!${at}–)\\d+–`));
    text += frame;
  }
  return { text, frame };
}

describe('the triage app', () => {
  it('lists the slides most uncertain first, and by arrival on o', async () => {
    const { ui } = await setup();
    const frame = ui.lastFrame()!;
    // On 100 columns the status bar takes two lines: the work first, then the model, who and where.
    const status = await waitFor(ui.lastFrame, /^ test-untrained@\w+ \(no held-out figures\) · alice · /m);
    expect(status).toMatch(/^ 3 to review · 0 labelled · 0 rejected · 0 duplicate · watcher /m);
    const order = ['slide-b', 'slide-c', 'slide-a'].map((n) => frame.indexOf(n));
    expect(order[0]).toBeLessThan(order[1]);
    expect(order[1]).toBeLessThan(order[2]);
    expect(frame).toMatch(/› to review\s+Early\s+45\.0%\s+5\.0%/);
    await press(ui, 'o');
    const byArrival = await waitFor(ui.lastFrame, /sorted by arrival/);
    expect(byArrival.indexOf('slide-a')).toBeLessThan(byArrival.indexOf('slide-b'));
    ui.unmount();
  });

  it('puts a slide unlike the training images first, marks it, and says so on the slide', async () => {
    const { ui } = await setup([0]);
    const frame = ui.lastFrame()!;
    // slide-a is the most confident (margin 0.6) but far from the training images: it leads.
    expect(frame.indexOf('slide-a')).toBeLessThan(frame.indexOf('slide-b'));
    expect(frame).toMatch(/› to review\s+⚠Benign\s+70\.0%/);
    expect(frame).toMatch(/⚠ unlike the model's training images/);
    expect(frame).toMatch(/sorted by uncertainty \(⚠ first, then smallest margin first\) — 3 slide/);
    expect(frame).not.toMatch(/⚠(Early|Pro)/);
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-a\.png/);
    const slide = await waitFor(ui.lastFrame, /Predicted Benign/); // once the model is loaded
    expect(slide.replace(/\s+/g, ' ')).toMatch(/⚠ Unlike the training images \(distance 0\.42, limit 0\.12\)/);
    await press(ui, ']');
    await waitFor(ui.lastFrame, /slide-b\.png/);
    expect(ui.lastFrame()).not.toMatch(/Unlike the training images/);
    ui.unmount();
  });

  it('keeps the open slide (and the queue cursor) on the same slide when a new, more uncertain one sorts above it', async () => {
    const { ui, store } = await setup();
    await press(ui, 'j'); // the cursor on slide-c
    await waitFor(ui.lastFrame, /› to review {2}Pro/);
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 2\/3 — slide-c\.png/);
    // Another slide arrives and is scored, less certain than every one: it sorts first.
    await store.importRecords({
      slides: [{ sha256: sha(3), path: 'slide-d.png', width: 100, height: 100, addedAt: '2026-11-28T10:09:00.000Z' }],
      files: [{ path: 'slide-d.png', state: 'queued', sha256: sha(3), duplicateOf: null, code: null, reason: null, size: 1, mtimeMs: 1, seenAt: '' }],
      predictions: [
        {
          sha256: sha(3),
          prediction: { modelId, label: 'Pre', probabilities: { Benign: 0.3, Early: 0.2, Pre: 0.31, Pro: 0.19 }, at: '', explanations: {}, ood: { distance: 0.05, threshold: 0.12, unusual: false } },
        },
      ],
    });
    await waitFor(ui.lastFrame, /Slide 3\/4 — slide-c\.png/); // the store is polled every 2 s
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /confirmed Pro/);
    const data = await store.dump();
    expect(currentLabel(data, sha(2))).toMatchObject({ label: 'Pro', action: 'confirm' });
    expect(currentLabel(data, sha(3))).toBeNull();
    // The labelled slide leaves the to-review list: the slide now in its place is shown, and stays.
    await waitFor(ui.lastFrame, /Slide 3\/3 — slide-a\.png/);
    await press(ui, '\x1b');
    const queue = await waitFor(ui.lastFrame, /Queue — to review/);
    expect(queue).toMatch(/› to review {2}Benign/);
    ui.unmount();
  });

  it('a kept note goes with the slide it was written on, never another; quitting with it waiting asks first', async () => {
    const { ui, store } = await setup();
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    await press(ui, 'n');
    await waitFor(ui.lastFrame, /type, then Enter/);
    await press(ui, 'look again');
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /note kept for this slide/);
    await press(ui, ']');
    const other = await waitFor(ui.lastFrame, /Slide 2\/3 — slide-c\.png/);
    expect(other).toMatch(/note waiting on slide-b\.png/);
    expect(other).not.toMatch(/Note: look again/);
    await press(ui, 'n'); // a second note while the first waits: refused, with the way out
    await waitFor(ui.lastFrame, /slide-b\.png has a note waiting:/);
    await press(ui, '3'); // slide-c corrected to Pre: without slide-b's note
    await waitFor(ui.lastFrame, /corrected to Pre/);
    expect(currentLabel(await store.dump(), sha(2))).toMatchObject({ label: 'Pre', note: '' });
    await press(ui, 'q');
    await waitFor(ui.lastFrame, /A note waits for the decision on slide-b\.png \("look again"\): decide that slide, or press q again/);
    await press(ui, '[');
    const back = await waitFor(ui.lastFrame, /Slide 1\/2 — slide-b\.png/);
    expect(back).not.toMatch(/press q again/);
    // Ctrl-C while a note is being typed asks too (q would be text there).
    await press(ui, 'n');
    await press(ui, '\x03');
    await waitFor(ui.lastFrame, /A note waits for the decision on slide-b\.png \("look again"\): decide that slide, or press Ctrl-C/);
    await press(ui, '\r'); // and the note is kept
    expect(back).not.toMatch(/press q again/);
    expect(back).toMatch(/Note: look again/);
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /confirmed Early/);
    expect(currentLabel(await store.dump(), sha(1))).toMatchObject({ label: 'Early', action: 'confirm', note: 'look again' });
    ui.unmount();
  });

  it('two decision keys faster than the screen redraws: the second is refused, not applied to a slide not yet seen', async () => {
    const { ui, store } = await setup();
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    await press(ui, '12'); // one chunk: 1 decides slide-b, 2 comes before slide-c is drawn
    await waitFor(ui.lastFrame, /Slide 1\/2 — slide-c\.png/);
    // Time for a second decision to be written, were one made, before the store is read.
    await new Promise((r) => setTimeout(r, 500));
    const data = await store.dump();
    expect(currentLabel(data, sha(1))).toMatchObject({ label: 'Benign', action: 'correct' });
    expect(data.decisions[sha(1)]).toHaveLength(1);
    expect(currentLabel(data, sha(2))).toBeNull();
    ui.unmount();
  });

  it('u right after a decision, on the slide it moved on to, undoes that decision and goes back to its slide', async () => {
    const { ui, store } = await setup();
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    await press(ui, '1'); // the wrong key: Benign
    await waitFor(ui.lastFrame, /Slide 1\/2 — slide-c\.png/);
    await press(ui, 'u');
    await waitFor(ui.lastFrame, /undone on slide-b\.png: label now none/);
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    await press(ui, '2');
    await waitFor(ui.lastFrame, /confirmed Early/);
    const data = await store.dump();
    expect(data.decisions[sha(1)].map((d) => d.action)).toEqual(['correct', 'undo', 'confirm']);
    expect(currentLabel(data, sha(1))).toMatchObject({ label: 'Early' });
    expect(data.decisions[sha(2)] ?? []).toEqual([]);
    // Decided again: on to the next slide.
    await waitFor(ui.lastFrame, /Slide 1\/2 — slide-c\.png/);
    ui.unmount();
  });

  it('the open slide decided meanwhile by another technician stays on the screen, with their label, until moving on', async () => {
    const { ui, config } = await setup();
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    const bob = await openStore(config.store, { technician: 'bob', displayName: null });
    await bob.decide({ sha256: sha(1), action: 'correct', label: 'Pre', note: '', modelId, predicted: 'Early', probabilities: null });
    const held = await waitFor(ui.lastFrame, /Label: Pre \(correct by bob/); // the store is polled every 2 s
    expect(held).toMatch(/Slide –\/2 — slide-b\.png/);
    await press(ui, ']');
    await waitFor(ui.lastFrame, /Slide 1\/2 — slide-c\.png/);
    ui.unmount();
  });

  it('shows a decision as pending until its journal line is on disk, and as saved after', async () => {
    const { ui, config, store } = await setup();
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    // Another process in the middle of a long write: the decision waits for it without freezing the screen.
    const other = new Database(config.store);
    other.exec('BEGIN IMMEDIATE');
    const release = async () => {
      other.exec('COMMIT');
      other.close();
    };
    await press(ui, '\r');
    const pending = await waitFor(ui.lastFrame, /⧗ confirming Early…/);
    expect(pending).toMatch(/slide-c\.png/); // the screen moved on at once
    expect(pending).not.toMatch(/✓ confirmed/);
    await release();
    await waitFor(ui.lastFrame, /✓ confirmed Early/);
    expect(currentLabel(await store.dump(), sha(1))?.label).toBe('Early');
    ui.unmount();
  });

  it('a full disk during a decision: the app says so, keeps the slide and its note for another try, and leaves nothing behind', async () => {
    const { ui: first, config } = await setup();
    first.unmount();
    // The same store with no room left (a page limit on this connection: the disk as SQLite sees it).
    const full = await openStore(config.store, { technician: 'alice', displayName: null }, { pragmas: ['max_page_count = 50'] });
    // Fill the journal's pages with decisions on slides whose files are gone (not in the queue), long notes first.
    const hidden = Array.from({ length: 60 }, (_, i) => sha(100 + i));
    await full
      .importRecords({
        slides: hidden.map((h, i) => ({ sha256: h, path: `gone-${i}.png`, width: 1, height: 1, addedAt: '' })),
        files: hidden.map((h, i) => ({ path: `gone-${i}.png`, state: 'gone', sha256: h, duplicateOf: null, code: null, reason: null, size: 1, mtimeMs: 1, seenAt: '' })),
      })
      .catch(() => undefined);
    let next = 0;
    for (const size of [4000, 1000, 200, 1])
      while (
        next < hidden.length &&
        (await full.decide({ sha256: hidden[next], action: 'correct', label: 'Pre', note: 'x'.repeat(size), modelId: null, predicted: null, probabilities: null }).then(
          () => true,
          () => false,
        ))
      )
        next++;
    const ui = mount(config, full, 'alice');
    await waitFor(ui.lastFrame, /3 slide\(s\)/);
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    await press(ui, 'n');
    await press(ui, 'look again\r');
    await press(ui, '4');
    const refused = await waitFor(ui.lastFrame, /not saved: the disk holding the store/);
    expect(refused.replace(/\s*\n\s*/g, ' ')).toMatch(/is full \(database or disk is full\): nothing was saved; free some space and try again/);
    expect(refused).toMatch(/Slide 1\/3 — slide-b\.png/); // back on the slide, still to decide
    expect((await full.decisionsOf(sha(1))).length).toBe(0);
    expect((await fs.readdir(path.dirname(config.store))).filter((f) => !/^store\.db(-wal|-shm|\.heads)?$/.test(f))).toEqual([]);
    // Still running: keys still work, and the note waits for the next try.
    await press(ui, ']');
    await waitFor(ui.lastFrame, /Slide 2\/3 — slide-c\.png/);
    await press(ui, '[');
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    expect(ui.lastFrame()).toMatch(/look again/);
    ui.unmount();
  });

  it('passes over a slide another technician has open when moving on, and asks before opening it', async () => {
    const { ui, store } = await setup();
    // bob's instance, on another host, has slide-c (second in the list) open.
    await store.putLease(sha(2), { technician: 'bob', pid: 1, host: 'bobs-host', expiresAt: Date.now() + 60_000 });
    await waitFor(ui.lastFrame, /slide-c\.png \(open: bob\)/); // the store is polled every 2 s
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    await press(ui, '\r'); // confirm slide-b: the next free slide is slide-a, not slide-c
    await waitFor(ui.lastFrame, /✓ confirmed Early/);
    expect(ui.lastFrame()).toMatch(/— slide-a\.png/);
    await press(ui, '\x1b');
    await waitFor(ui.lastFrame, /Queue — to review/);
    await press(ui, 'k'); // up to slide-c: margin 0.3 sorts it above slide-a's 0.6
    await waitFor(ui.lastFrame, /› to review\s+Pro.*slide-c\.png \(open: bob\)/);
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /bob has slide-c\.png open: press y to open it anyway/);
    expect(ui.lastFrame()).toMatch(/Queue — to review/);
    await press(ui, 'y');
    const opened = await waitFor(ui.lastFrame, /— slide-c\.png/);
    expect(opened).toMatch(/bob has this slide open too/);
    ui.unmount();
  });

  it('moves on when another instance opened the slide first though the list did not show it yet, and decides nothing there', async () => {
    const { ui, store } = await setup([], 600_000); // this instance does not see other instances' writes
    await store.putLease(sha(1), { technician: 'bob', pid: 1, host: 'bobs-host', expiresAt: Date.now() + 60_000 });
    await press(ui, '\r\r'); // open slide-b and confirm at once, before the claim on it has failed
    await waitFor(ui.lastFrame, /not decided: another instance opened\s+slide-b\.png first/);
    await waitFor(ui.lastFrame, /— slide-c\.png/);
    expect((await store.dump()).decisions[sha(1)] ?? []).toEqual([]);
    ui.unmount();
  });

  it('does not decide a slide that another instance has taken over meanwhile', async () => {
    const { ui, store } = await setup();
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    // bob answered y on his host: the lease is his now.
    await store.putLease(sha(1), { technician: 'bob', pid: 1, host: 'bobs-host', expiresAt: Date.now() + 60_000 });
    await waitFor(ui.lastFrame, /bob has this slide open too/);
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /bob has this slide open in another/);
    expect((await store.dump()).decisions[sha(1)] ?? []).toEqual([]);
    ui.unmount();
  });

  it('zooms the slide to the terminal with one map over it: Tab steps, m hides, + and − change the opacity', async () => {
    const { ui, store, config } = await setup();
    // The image and two maps as the predictor writes them: a grey square with a red and a blue overlay.
    const dir = path.join(path.dirname(config.store), 'explanations');
    await fs.mkdir(dir, { recursive: true });
    const square = (r: number, g: number, b: number, file: string) =>
      sharp({ create: { width: 64, height: 64, channels: 3, background: { r, g, b } } })
        .png()
        .toFile(path.join(dir, file));
    await square(100, 100, 100, 'b.image.png');
    await square(200, 40, 40, 'b.gradcam.png');
    await square(40, 40, 200, 'b.cam.png');
    await store.addExplanations(sha(1), modelId, { image: 'explanations/b.image.png', gradcam: 'explanations/b.gradcam.png', cam: 'explanations/b.cam.png' });
    await press(ui, '\r');
    // The default map large (its short caption where the full one does not fit), the others as thumbnails.
    const slide = await waitFor(ui.lastFrame, /Grad-CAM 1²/);
    expect(slide).toMatch(/ image /);
    expect(slide).toMatch(/ CAM 1²/);
    // Under the maps, what the first one shows, as measured: Grad-CAM 7² points into a cell in 0.40 of images.
    expect(slide).toMatch(/Grad-CAM: coarse evidence for the/); // wrapped under the pictures, beside the probabilities
    await press(ui, 'z');
    const zoomed = await waitFor(ui.lastFrame, /Zoom — slide-b\.png — Grad-CAM · last stage, 1 × 1 \(1\/2, Tab\) · opacity 100%/);
    expect(zoomed).toMatch(/Grad-CAM: coarse evidence for the class: it often falls between the cells/);
    const cellRows = (frame: string) => frame.split('\n').filter((l) => l.includes('▀')).length;
    await waitFor(ui.lastFrame, /▀/);
    expect(cellRows(ui.lastFrame()!)).toBeGreaterThan(cellRows(slide));
    // The picture follows its caption (the last one stays until the next is made): poll for the colour.
    const colourOf = async () =>
      decodeHalfBlocks(
        (await waitFor(ui.lastFrame, /▀/))
          .split('\n')
          .filter((l) => l.includes('▀'))
          .map((l) => l.slice(l.indexOf('\u001b[38;2'))),
      ).rgb.slice(0, 3);
    await expect.poll(async () => [...(await colourOf())], { timeout: 10_000 }).toEqual([200, 40, 40]);
    await press(ui, '-');
    await waitFor(ui.lastFrame, /opacity 75%/);
    await expect.poll(async () => [...(await colourOf())], { timeout: 10_000 }).toEqual([175, 55, 55]); // a quarter of the way back to the grey image
    await press(ui, 'm');
    await waitFor(ui.lastFrame, /opacity 0%/);
    await expect.poll(async () => [...(await colourOf())], { timeout: 10_000 }).toEqual([100, 100, 100]);
    await press(ui, 'm');
    await press(ui, '\t');
    await waitFor(ui.lastFrame, /CAM · last stage, 1 × 1, class weights \(2\/2, Tab\) · opacity 100%/);
    await expect.poll(async () => [...(await colourOf())], { timeout: 10_000 }).toEqual([40, 40, 200]);
    // Every Tab moves: round the two maps and on again (the plain image is not one of them).
    await press(ui, '\t');
    await waitFor(ui.lastFrame, /\(1\/2, Tab\)/);
    await press(ui, '\t');
    await waitFor(ui.lastFrame, /\(2\/2, Tab\)/);
    await press(ui, 'z');
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    expect(zoomed).not.toMatch(/Enter confirm/); // decisions are made on the slide, not in the zoom
    ui.unmount();
  });

  it('x runs the methods of explain.methods the slide does not show yet, and says so when none is left', async () => {
    const cwd = await tempDir();
    const config = loadConfig({ cwd, overrides: { model: modelDir, backend: 'wasm', explain: { methods: ['gradcam28'] } } });
    const bytes = await fs.readFile(path.join(FIXTURES, 'samples', 'cnmc-hem-H11-10-1.png'));
    const digest = createHash('sha256').update(bytes).digest('hex');
    await fs.mkdir(config.incoming, { recursive: true });
    await fs.writeFile(path.join(config.incoming, 'real.png'), bytes);
    const store = await openStore(config.store, { technician: 'alice', displayName: null });
    await store.importRecords({
      slides: [{ sha256: digest, path: 'real.png', width: 450, height: 450, addedAt: '2026-11-28T10:00:00.000Z' }],
      files: [{ path: 'real.png', state: 'queued', sha256: digest, duplicateOf: null, code: null, reason: null, size: bytes.length, mtimeMs: 1, seenAt: '' }],
      predictions: [{ sha256: digest, prediction: { modelId, label: 'Benign', probabilities: { Benign: 0.7, Early: 0.1, Pre: 0.1, Pro: 0.1 }, at: '', explanations: {} } }],
    });
    const ui = mount(config, store, 'alice', undefined, 'real');
    await waitFor(ui.lastFrame, /1 slide\(s\)/);
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 1\/1 — real\.png/);
    await waitFor(ui.lastFrame, /test-untrained@/); // the model loaded
    await press(ui, 'x');
    await waitFor(ui.lastFrame, /Grad-CAM \d+ ms/, 60_000);
    const explanations = (await store.dump()).predictions[digest].at(-1)!.explanations;
    expect(Object.keys(explanations)).toEqual(expect.arrayContaining(['image', 'gradcam28']));
    expect(explanations).not.toHaveProperty('lime');
    await press(ui, 'x');
    await waitFor(ui.lastFrame, /shows every method of[\s\S]*explain\.methods already/);
    ui.unmount();
  }, 90_000);

  it('confirms with Enter, corrects with a number key, undoes with u — all kept in the store', async () => {
    const { ui, store } = await setup();
    await press(ui, '\r'); // open slide-b
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    expect(ui.lastFrame()).toMatch(/Predicted Early/);
    await press(ui, '\r'); // confirm Early
    await waitFor(ui.lastFrame, /confirmed Early/);
    let data = await store.dump();
    expect(currentLabel(data, sha(1))).toMatchObject({ label: 'Early', action: 'confirm', technician: 'alice', modelId });
    // slide-b left the to-review list: the same position is now slide-c; correct it to Pre with a note.
    await waitFor(ui.lastFrame, /slide-c\.png/);
    await press(ui, 'n');
    // Type once the note field is on screen (a loaded machine can take longer than one press interval).
    await waitFor(ui.lastFrame, /Note: /);
    await press(ui, 'pale nucleus');
    await waitFor(ui.lastFrame, /Note: pale nucleus/);
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Enter confirm/); // back from the note field
    await press(ui, '3');
    await waitFor(ui.lastFrame, /corrected to Pre/);
    data = await store.dump();
    expect(currentLabel(data, sha(2))).toMatchObject({ label: 'Pre', action: 'correct', predicted: 'Pro', note: 'pale nucleus' });
    // Back to the labelled list and undo the correction there.
    await press(ui, 'g');
    await press(ui, 'f');
    await waitFor(ui.lastFrame, /Queue — labelled/);
    await press(ui, 'j');
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /slide-c\.png/);
    await press(ui, 'u');
    await waitFor(ui.lastFrame, /undone: label now none/);
    data = await store.dump();
    expect(currentLabel(data, sha(2))).toBeNull();
    expect(data.decisions[sha(2)].map((d) => d.action)).toEqual(['correct', 'undo']);
    ui.unmount();
  });

  it('says so when the engine worker died and was restarted; the slide and its keys keep working', async () => {
    // The engine on TensorFlow.js alone: a worker thread terminated with ONNX Runtime sessions open can
    // take the whole process down as the native addon's finalisers run (which is why the engine releases
    // them before it ends), and this test kills the worker from outside to see the app restart it.
    const { ui } = await setup([], undefined, 'tfjs', 'real');
    await (clients.at(-1) as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await waitFor(ui.lastFrame, /engine: \d\d:\d\d the engine worker exited \(code 1\); restarting it — \d\d:\d\d running again/);
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 1\/3 — slide-b\.png/);
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /confirmed Early/);
  });

  it("lists every key of the keymap on ?, the screen's own keys first, scrolling where the list is taller than the terminal", async () => {
    const { ui } = await setup();
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Slide 1\/3/);
    await press(ui, '?');
    let frame = await waitFor(ui.lastFrame, /Keys \(\? or Esc closes · ↑↓ j k scroll · Space next page\)/);
    // Opened from a slide: the slide's keys come first. 24 rows (the fallback here): not all fit.
    expect(frame.split('\n')[1].trim()).toBe('Slide');
    expect(frame).toMatch(/lines 1–\d+ of \d+ · more below/);
    const paged = await pageThrough(ui, frame);
    const text = paged.text;
    frame = paged.frame;
    expect(frame).not.toMatch(/more below/);
    // A long description wraps under itself.
    const flat = text.replace(/\s+/g, ' ');
    for (const k of KEYMAP) expect(flat).toContain(k.description);
    // One line back up with k; Esc closes and returns to the slide.
    const last = Number(frame.match(/lines (\d+)–/)![1]);
    await press(ui, 'k');
    await waitFor(ui.lastFrame, new RegExp(`lines ${last - 1}–`));
    await press(ui, '\x1b');
    await waitFor(ui.lastFrame, /Slide 1\/3/);
    // From the queue, the queue's keys first; ? closes too.
    await press(ui, 'g');
    await waitFor(ui.lastFrame, /Queue — to review/);
    await press(ui, '?');
    frame = await waitFor(ui.lastFrame, /Keys \(\? or Esc closes/);
    expect(frame.split('\n')[1].trim()).toBe('Queue');
    await press(ui, '?');
    await waitFor(ui.lastFrame, /Queue — to review/);
    ui.unmount();
  });

  it('a burst of keys in one chunk (open, note, text, save, class) lands as typed, note included', async () => {
    const { ui, store } = await setup();
    ui.stdin.write('\rnquick look\r3');
    await waitFor(ui.lastFrame, /corrected to Pre/);
    const data = await store.dump();
    expect(currentLabel(data, sha(1))).toMatchObject({ label: 'Pre', action: 'correct', note: 'quick look' });
    ui.unmount();
  });

  it('the retrain screen says there is nothing to train on yet; the benchmarks screen shows the shipped comparison until the lab runs its own', async () => {
    const { ui } = await setup();
    await press(ui, 'R');
    expect(await waitFor(ui.lastFrame, /Retrain/)).toMatch(/0 confirmed label\(s\): none yet/);
    await press(ui, 'r');
    expect(await waitFor(ui.lastFrame, /retraining failed/)).toMatch(/no confirmed labels yet/);
    await press(ui, 'B');
    expect(await waitFor(ui.lastFrame, /shipped with slidetriage/)).toMatch(/AlexNet/);
    ui.unmount();
  });
});

describe('empty incoming folder', () => {
  it('says which folder it watches and offers the samples', async () => {
    const cwd = await tempDir();
    const config = loadConfig({ cwd, overrides: { model: path.join(cwd, 'no-model'), backend: 'wasm' } });
    const store = await openStore(config.store);
    const ui = mount(config, store, 'bob');
    const frame = await waitFor(ui.lastFrame, /No model could be loaded/);
    expect(frame).toContain('press c to copy in the bundled samples');
    expect(frame).toContain(path.basename(config.incoming));
    // Without a model a slide can still be labelled by hand with the configured classes.
    await store.importRecords({ slides: [{ sha256: sha(9), path: 'by-hand.png', width: 64, height: 64, addedAt: new Date().toISOString() }] });
    await waitFor(ui.lastFrame, /by-hand\.png/, 10_000);
    await press(ui, '\r');
    await waitFor(ui.lastFrame, /Waiting for a prediction/);
    await press(ui, '4');
    await waitFor(ui.lastFrame, /corrected to Pro/);
    expect(currentLabel(await store.dump(), sha(9))).toMatchObject({ label: 'Pro', predicted: null, modelId: null });
    ui.unmount();
  });
});

describe('benchmarks screen', () => {
  it('shows the latest table, the ROC curves in characters and a confusion matrix', async () => {
    const cwd = await tempDir();
    const { default: fs } = await import('node:fs/promises');
    const config = loadConfig({ cwd, overrides: { model: modelDir, backend: 'wasm' } });
    await fs.mkdir(config.benchResults, { recursive: true });
    const row = (model: string, name: string, auc: number) => ({
      model,
      name,
      parameters: 1000,
      trainSeconds: 10,
      epochs: 1,
      n: 4,
      accuracy: 0.75,
      precision: 0.7,
      recall: 0.72,
      f1: 0.71,
      auc,
      mAP: 0.8,
      msPerImage: 3,
      msTestPart: 12,
      classes: ['all', 'hem'],
      confusion: [
        [2, 0],
        [1, 1],
      ],
      roc: [
        [0, 0],
        [0, 0.5],
        [0.5, 1],
        [1, 1],
      ],
    });
    await fs.writeFile(path.join(config.benchResults, 'results.json'), JSON.stringify({ header: 'test header', rows: [row('alexnet', 'AlexNet', 0.875), row('effnet-b0', 'EfficientNet-B0', 0.9)] }));
    const store = await openStore(config.store);
    const ui = mount(config, store, 'carol');
    await waitFor(ui.lastFrame, /Queue/);
    await press(ui, 'B');
    let frame = await waitFor(ui.lastFrame, /\| AlexNet \| 75\.00/);
    expect(frame).toMatch(/\| EfficientNet-B0 \|/);
    // 24 rows (the fallback here) do not hold the table, the chart and the versions: Space pages on.
    expect(frame).toMatch(/lines 1–\d+ of \d+ · more below/);
    const paged = await pageThrough(ui, frame);
    const text = paged.text;
    frame = paged.frame;
    expect(frame).toMatch(/Model versions on the confirmed labels/);
    expect(text).toMatch(/A AlexNet AUC 87\.5%/);
    expect(text).toMatch(/AlexNet: confusion/);
    ui.unmount();
  });
});

// The app in real terminals under Xvfb, keys through XTEST, the screen read back from screenshots.
// xterm (sixel, VT340 emulation): the zoom view must show the slide's own pixels at ≥ 224 × 224, and no
// picture may stay on screen after Esc or after quitting. kitty: Debian's is 0.26.5, older than Unicode
// placeholders, so the app must see that and draw half blocks, which must show the slide too. Skips,
// saying why, where the tools are absent (.ci/run installs them). SLIDETRIAGE_SCREENSHOTS=DIR keeps the
// zoom's screenshots (docs/screenshots).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, PACKAGE_ROOT } from '../src/config.js';
import { FIXTURES, tempDir } from './helpers.js';
import { missingTools, XTerminal, type TerminalName } from './support/x-terminal.js';
import { compareWith, cropPng, findPicture, sameAsLeftNeighbour } from './support/screen-image.js';
import type { Screenshot } from './support/xwd.js';
import sharp from 'sharp';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'slidetriage.js');
const SLIDE = path.join(FIXTURES, 'samples', 'cnmc-hem-H11-10-1.png');
/** The first map the app makes for a new slide (explain.slideMethods): the slide is ready when it is written. */
const FIRST_MAP = new RegExp(`\\.${loadConfig({ cwd: PACKAGE_ROOT, overrides: {} }).explain.slideMethods[0]}\\.png$`);
const missing = missingTools('xterm');
if (missing.length) console.warn(`xterm test skipped: ${missing.join(', ')} not installed (apt-get install xvfb xterm xdotool x11-apps)`);
const missingForKitty = missingTools('kitty');
const missingForMlterm = missingTools('mlterm');
if (missingForKitty.length) console.warn(`kitty test skipped: ${missingForKitty.join(', ')} not installed (apt-get install kitty)`);

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
let term: XTerminal | null = null;
afterEach(() => {
  term?.stop();
  term = null;
});

async function waitForFile(dir: string, pattern: RegExp, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fs.existsSync(dir) && fs.readdirSync(dir).some((f) => pattern.test(f))) return;
    await pause(250);
  }
  throw new Error(`no file like ${pattern} in ${dir} after ${ms} ms`);
}

/** Polls `look` (every 0.5 s, up to `ms`) until it gives a value that `ok` accepts; returns the last one.
 *  The screen changes when the app has drawn, which takes longer on a loaded machine than any fixed pause. */
async function until<T>(look: () => Promise<T> | T, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let last = await look();
  while (!ok(last) && Date.now() < end) {
    await pause(500);
    last = await look();
  }
  return last;
}

async function keep(name: string, png: Buffer): Promise<void> {
  const dir = process.env.SLIDETRIAGE_SCREENSHOTS;
  if (dir) fs.writeFileSync(path.join(dir, name), png);
}

/** A folder with the slide in incoming/, and the app's environment as a plain terminal gives it. */
async function appFolder(): Promise<{ cwd: string; env: NodeJS.ProcessEnv }> {
  const cwd = await tempDir();
  fs.mkdirSync(path.join(cwd, 'incoming'));
  fs.copyFileSync(SLIDE, path.join(cwd, 'incoming', 'slide.png'));
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
  for (const name of ['CI', 'TMUX', 'TMUX_PANE', 'COLORTERM', 'NO_COLOR', 'KITTY_WINDOW_ID', 'TERM_PROGRAM']) delete env[name];
  return { cwd, env };
}

describe.skipIf(missingForKitty.length > 0)('in kitty 0.26 (no Unicode placeholders)', () => {
  it('says why it draws half blocks, and the half blocks show the slide', async () => {
    const { cwd, env } = await appFolder();
    env.TERM = 'xterm-kitty';
    term = await XTerminal.start({ terminal: 'kitty', cwd, env, columns: 100, rows: 30, command: `${process.execPath} ${BIN}; sleep 600` });
    await waitForFile(path.join(cwd, 'data', 'explanations'), FIRST_MAP, 90_000);
    await pause(1500);
    term.key('Return');
    await pause(1500);
    term.key('z');
    await pause(500);
    term.key('m');
    // Half blocks: two pixels a cell, so the slide at a few dozen pixels, but the slide. The map must be off:
    // a map shaped like the cell correlates with the slide too (0.95 with LayerCAM on this one).
    const look = async () => {
      const shot = term!.screenshot();
      const box = findPicture(shot, 150);
      return { shot, box, seen: box ? await compareWith(shot, box, SLIDE) : null };
    };
    const { shot, box, seen: compared } = await until(look, (v) => (v.seen?.correlation ?? 0) > 0.97);
    expect(box, 'a picture on the zoom screen').not.toBeNull();
    const seen = compared!;
    console.info(`kitty 0.26, half blocks: ${box!.width} × ${box!.height} px on screen; correlation ${seen.correlation.toFixed(3)}, mean difference ${seen.meanDifference.toFixed(1)}`);
    expect(seen.correlation).toBeGreaterThan(0.97);
    await keep('zoom-kitty-0.26-half-blocks.png', await cropPng(shot, { x: 0, y: 0, width: Math.min(shot.width, 920), height: Math.min(shot.height, 560) }));
  }, 150_000);
});

interface ZoomOptions {
  terminal?: TerminalName;
  windowOps?: boolean;
  args?: string[];
}

/** Starts the app in a 100 × 30 terminal (the shell stays after it quits), opens the slide once its map is written, and zooms until a picture shows. */
async function openZoom(opts: ZoomOptions): Promise<XTerminal> {
  const { cwd, env } = await appFolder();
  const command = `${process.execPath} ${BIN} ${(opts.args ?? []).join(' ')}; sleep 600`;
  const t = await XTerminal.start({ terminal: opts.terminal, windowOps: opts.windowOps, cwd, env, columns: 100, rows: 30, command });
  term = t;
  await waitForFile(path.join(cwd, 'data', 'explanations'), FIRST_MAP, 90_000);
  await pause(1500);
  t.key('Return');
  await pause(1500);
  t.key('z');
  await until(
    () => findPicture(t.screenshot(), 150),
    (b) => b !== null,
  );
  return t;
}

describe.skipIf(missing.length > 0)('in xterm with sixel', () => {
  it('zooms to the slide’s own pixels at ≥ 224 px, with the map over it or off, and leaves no picture after Esc and q', async () => {
    // The shell stays after the app quits, so that the screen after q can be looked at.
    term = await openZoom({});
    await pause(1000); // a look a second after the picture appears: the settled screen
    const withMap = term.screenshot();
    term.key('m');
    const look = async () => {
      const shot = term!.screenshot();
      const box = findPicture(shot, 150);
      return { shot, box, plain: box ? await compareWith(shot, box, SLIDE) : null };
    };
    // Until the new picture replaces the mapped one (the header changes first): a map shaped like the cell
    // correlates with the slide as well, so the mean difference must fall too.
    const { shot: mapOff, box, plain: compared } = await until(look, (v) => (v.plain?.correlation ?? 0) > 0.95 && v.plain!.meanDifference < 12);
    expect(box, 'a picture on the zoom screen').not.toBeNull();
    expect(box!.width).toBeGreaterThanOrEqual(224);
    expect(box!.height).toBeGreaterThanOrEqual(224);
    const plain = compared!;
    expect(plain.correlation).toBeGreaterThan(0.95);
    expect(plain.meanDifference).toBeLessThan(12);
    // With the map on, the same place shows the slide under a heatmap: still the slide's shape, other colours.
    const mapped = await compareWith(withMap, box!, SLIDE);
    console.info(
      `zoom picture ${box!.width} × ${box!.height} px; map off: correlation ${plain.correlation.toFixed(3)}, mean difference ${plain.meanDifference.toFixed(1)}; map on: ${mapped.meanDifference.toFixed(1)}`,
    );
    expect(mapped.meanDifference).toBeGreaterThan(plain.meanDifference + 10);
    await keep('zoom-xterm-sixel-layercam14.png', await cropPng(withMap, { x: 0, y: 0, width: 810, height: 460 }));
    await keep('zoom-xterm-sixel-map-off.png', await cropPng(mapOff, { x: 0, y: 0, width: 810, height: 460 }));

    term.key('Escape');
    // Back on the slide view, whose pictures are smaller than the zoom's.
    const zoomArea = box!.width * box!.height;
    const after = await until(
      () => findPicture(term!.screenshot(), 150),
      (b) => b === null || b.width * b.height < 0.8 * zoomArea,
    );
    expect(after === null || after.width * after.height < 0.8 * zoomArea, 'the zoom picture after Esc').toBe(true);
    term.key('q');
    expect(
      await until(
        () => findPicture(term!.screenshot(), 40),
        (b) => b === null,
      ),
      'any picture after q',
    ).toBeNull();
  }, 150_000);
});

/** The screenshot's part right of x (the slide view's text column). */
const rightOf = (s: Screenshot, x: number): Screenshot => {
  const width = s.width - x;
  const rgb = new Uint8Array(width * s.height * 3);
  for (let y = 0; y < s.height; y++) rgb.set(s.rgb.subarray((y * s.width + x) * 3, (y * s.width + s.width) * 3), y * width * 3);
  return { width, height: s.height, rgb };
};

describe.skipIf(missing.length > 0)('in xterm with sixel, 120 × 36: the slide view', () => {
  it('shows the slide ≥ 300 px beside the probabilities, the cell under the map cut from the slide, and its box in the zoom', async () => {
    const { cwd, env } = await appFolder();
    const command = `${process.execPath} ${BIN}; sleep 600`;
    const t = (term = await XTerminal.start({ cwd, env, columns: 120, rows: 36, command }));
    const explanations = path.join(cwd, 'data', 'explanations');
    await waitForFile(explanations, /\.evidence\.json$/, 90_000);
    const cells = JSON.parse(
      fs.readFileSync(
        path.join(
          explanations,
          fs.readdirSync(explanations).find((f) => f.endsWith('.evidence.json'))!,
        ),
        'utf8',
      ),
    );
    await pause(1500);
    t.key('Return');
    // Tab twice: the plain slide large (the default map first, then the next map, then the slide).
    await pause(1500);
    t.key('Tab');
    t.key('Tab');
    const look = async () => {
      const shot = t.screenshot();
      const box = findPicture(shot, 150);
      return { shot, box, seen: box ? await compareWith(shot, box, SLIDE) : null };
    };
    const { shot, box, seen } = await until(look, (v) => (v.seen?.correlation ?? 0) > 0.95);
    expect(box, 'the large picture').not.toBeNull();
    console.info(`slide view: the slide at ${box!.width} × ${box!.height} px, correlation ${seen!.correlation.toFixed(3)}`);
    expect(Math.min(box!.width, box!.height)).toBeGreaterThanOrEqual(300);
    expect(seen!.correlation).toBeGreaterThan(0.95);
    // The first cell's crop, in the text column: the slide's own pixels inside the cell's box.
    // Right of the large picture, the thumbnails; right of them, the text column with the crop.
    const besideLarge = box!.x + box!.width + 1;
    const thumbnail = findPicture(rightOf(shot, besideLarge), 100);
    expect(thumbnail, 'the other maps as thumbnails').not.toBeNull();
    const column = rightOf(shot, besideLarge + thumbnail!.x + thumbnail!.width + 1);
    const crop = findPicture(column, 60);
    expect(crop, 'the cell’s crop beside the probabilities').not.toBeNull();
    const meta = await sharp(SLIDE).metadata();
    const [c] = cells;
    const region = { left: Math.round(c.x * meta.width!), top: Math.round(c.y * meta.height!), width: Math.round(c.w * meta.width!), height: Math.round(c.h * meta.height!) };
    const expected = await sharp(SLIDE).extract(region).png().toBuffer();
    const cropSeen = await compareWith(column, crop!, expected);
    console.info(`the cell's crop: ${crop!.width} × ${crop!.height} px, correlation ${cropSeen.correlation.toFixed(3)} with the slide inside its box`);
    expect(cropSeen.correlation).toBeGreaterThan(0.9);
    await keep('slide-view-xterm-sixel.png', await cropPng(shot, { x: 0, y: 0, width: shot.width, height: shot.height }));
    // The zoom, map off: the box drawn on the field in cell 1's colour (green), where the cell is.
    t.key('z');
    t.key('m');
    // Until the map is off in the picture too (its caption changes first): the slide, with the box's lines.
    const zoomed = await until(
      async () => {
        const s = t.screenshot();
        const z = findPicture(s, 300);
        return { s, z, seen: z ? await compareWith(s, z, SLIDE) : null };
      },
      (v) => (v.seen?.correlation ?? 0) > 0.9 && v.seen!.meanDifference < 12,
    );
    const z = zoomed.z!;
    const green = (x: number, y: number) => {
      const p = (y * zoomed.s.width + x) * 3;
      return zoomed.s.rgb[p + 1] > 150 && zoomed.s.rgb[p] < 100 && zoomed.s.rgb[p + 2] < 100;
    };
    const top = Math.round(z.y + c.y * z.height);
    const [x0, x1] = [Math.round(z.x + c.x * z.width), Math.round(z.x + (c.x + c.w) * z.width)];
    let onLine = 0;
    for (let x = x0 + 4; x < x1 - 4; x++) if ([-2, -1, 0, 1, 2].some((d) => green(x, top + d))) onLine++;
    console.info(`zoom: cell 1's box top edge green along ${onLine} of ${x1 - x0 - 8} px`);
    expect(onLine / (x1 - x0 - 8)).toBeGreaterThan(0.8);
    await keep('zoom-xterm-sixel-boxes.png', await cropPng(zoomed.s, { x: 0, y: 0, width: zoomed.s.width, height: zoomed.s.height }));
  }, 180_000);
});

/**
 * Starts the app in a terminal, opens the slide, zooms, turns the map off, and looks until the picture
 * correlates with the slide; with how many neighbouring pixels share a colour (half blocks: most).
 */
async function zoomedSlide(opts: ZoomOptions) {
  term = await openZoom(opts);
  term.key('m');
  const look = async () => {
    const shot = term!.screenshot();
    const box = findPicture(shot, 150);
    return { shot, box, plain: box ? await compareWith(shot, box, SLIDE) : null };
  };
  const seen = await until(look, (v) => (v.plain?.correlation ?? 0) > 0.95 && v.plain!.meanDifference < 12);
  expect(seen.box, 'a picture on the zoom screen').not.toBeNull();
  return { shot: seen.shot, box: seen.box!, plain: seen.plain!, flat: sameAsLeftNeighbour(seen.shot, seen.box!) };
}

describe.skipIf(missing.length > 0)('in a stock xterm (window operations off)', () => {
  it('draws the zoom in half blocks where it does not say its cell size, and in sixel with display.cellPixels', async () => {
    const blocks = await zoomedSlide({ windowOps: false });
    term!.key('q');
    term!.stop();
    term = null;
    // DejaVu Sans Mono 9 in xterm: 8 × 15-pixel cells (docs/app.md), which this xterm will not say.
    const sixel = await zoomedSlide({ windowOps: false, args: ['--set', 'display.cellPixels=8x15'] });
    console.info(`stock xterm: same colour as the left neighbour ${blocks.flat.toFixed(3)} (half blocks), ${sixel.flat.toFixed(3)} (display.cellPixels)`);
    expect(blocks.flat).toBeGreaterThan(0.8);
    expect(sixel.flat).toBeLessThan(0.5);
    expect(sixel.plain.correlation).toBeGreaterThan(0.95);
    expect(sixel.plain.meanDifference).toBeLessThan(12);
    await keep('zoom-stock-xterm-cellpixels.png', await cropPng(sixel.shot, { x: 0, y: 0, width: 810, height: 460 }));
  }, 240_000);
});

describe.skipIf(missingForMlterm.length > 0)('in mlterm (sixel, Debian)', () => {
  it('zooms to the slide’s own pixels in sixel', async () => {
    const { shot, box, plain, flat } = await zoomedSlide({ terminal: 'mlterm' });
    console.info(`mlterm: zoom picture ${box.width} × ${box.height} px, correlation ${plain.correlation.toFixed(3)}, same colour as the left neighbour ${flat.toFixed(3)}`);
    expect(box.width).toBeGreaterThanOrEqual(224);
    expect(flat).toBeLessThan(0.5); // real pixels, not half blocks
    expect(plain.correlation).toBeGreaterThan(0.95);
    await keep('zoom-mlterm-sixel.png', await cropPng(shot, { x: 0, y: 0, width: 810, height: 460 }));
  }, 150_000);
});

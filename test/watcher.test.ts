import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingWatcher } from '../src/ingest/watcher.js';
import { FIXTURES } from './helpers.js';
import { incomingFixture, waitUntil } from './support/incoming.js';

const watchers: IncomingWatcher[] = [];
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
});
const setup = () => incomingFixture(watchers)();

/** Every file's size, time and mode, by the bytes of its name (some names here are not UTF-8). */
async function snapshot(dir: string | Buffer, out = new Map<string, string>()): Promise<Map<string, string>> {
  for (const e of await fs.readdir(Buffer.from(dir), { withFileTypes: true, encoding: 'buffer' })) {
    const full = Buffer.concat([Buffer.from(dir), Buffer.from(path.sep), e.name]);
    const st = await fs.lstat(full);
    out.set(full.toString('hex'), `${st.size}:${st.mtimeMs}:${st.mode}`);
    if (e.isDirectory()) await snapshot(full, out);
  }
  return out;
}

describe('incoming folder', () => {
  it('gives every file in a bad-input corpus one state, never touching the files', async () => {
    const { incoming, store, start } = await setup();
    const copy = (from: string, to: string) => fs.copyFile(path.join(FIXTURES, from), path.join(incoming, to));
    await fs.mkdir(path.join(incoming, 'patient 7', 'smear ü'), { recursive: true });
    await copy('bad/empty.jpg', 'zero bytes.jpg');
    await copy('bad/truncated.jpg', 'truncated.jpg');
    await copy('bad/text-named.png', 'text.png');
    await copy('bad/one-pixel-1x1.png', 'one pixel.png');
    await copy('bad/bomb-50000x50000.png', 'bomb.png');
    await copy('samples/cnmc-all-14-26-2.jpg', 'patient 7/smear ü/slide №1 (copy).jpg');
    await copy('samples/cnmc-all-14-26-2.jpg', 'patient 7/same content, other name.jpg');
    await copy('samples/cnmc-hem-H11-10-1.png', 'line\nbreak.png');
    await copy('cnmc/all/UID_14_26_2_all.bmp', 'cell.BMP');
    await copy('bad/notes.txt', 'notes.txt');
    await copy('bad/svg-named.jpg', 'svg.jpg');
    await copy('bad/gif-named.jpg', 'gif.jpg');
    await copy('bad/webp-named.png', 'webp.png');
    await copy('bad/__proto__', '__proto__');
    await fs.writeFile(path.join(incoming, '.hidden.jpg'), 'x');
    await fs.writeFile(path.join(incoming, '~lock.png'), 'x');
    await fs.writeFile(path.join(incoming, 'upload.jpg.part'), 'x');
    await fs.symlink('/etc/passwd', path.join(incoming, 'passwd.png'));
    // Names that are not UTF-8 (Latin-1 from an SMB share), in a folder too, and a name with a terminal escape.
    const bytesName = (latin1: string) => Buffer.concat([Buffer.from(incoming + path.sep), Buffer.from(latin1, 'latin1')]);
    await fs.mkdir(bytesName('dir\xe9'));
    await fs.copyFile(path.join(FIXTURES, 'cnmc/hem/UID_H11_4_1_hem.bmp'), bytesName('caf\xe9.bmp'));
    await fs.copyFile(path.join(FIXTURES, 'cnmc/hem/UID_H11_7_1_hem.bmp'), bytesName('\xff\xfe.bmp'));
    await fs.copyFile(path.join(FIXTURES, 'cnmc/hem/UID_H12_32_6_hem.bmp'), bytesName('dir\xe9/inner.bmp'));
    await fs.copyFile(path.join(FIXTURES, 'cnmc/hem/UID_H12_4_3_hem.bmp'), path.join(incoming, '\u001b]52;c;cHduZWQ=\u0007.bmp'));
    const before = await snapshot(incoming);
    const { w, warnings } = start();
    await w.whenIdle();
    const data = await store.dump();
    const state = (p: string) => [data.files[p]?.state, data.files[p]?.code];
    expect(state('zero bytes.jpg')).toEqual(['rejected', 'empty']);
    expect(state('truncated.jpg')).toEqual(['rejected', 'undecodable']);
    expect(state('text.png')).toEqual(['rejected', 'content-mismatch']);
    expect(state('one pixel.png')).toEqual(['rejected', 'too-small']);
    expect(state('bomb.png')).toEqual(['rejected', 'too-many-pixels']);
    expect(state('notes.txt')).toEqual(['rejected', 'extension']);
    for (const [f, what] of [
      ['svg.jpg', /SVG/],
      ['gif.jpg', /GIF/],
      ['webp.png', /WebP/],
    ] as const) {
      expect(state(f)).toEqual(['rejected', 'content-mismatch']);
      expect(data.files[f].reason).toMatch(what);
    }
    expect(Object.hasOwn(data.files, '__proto__') && state('__proto__')).toEqual(['rejected', 'extension']);
    expect(state('passwd.png')).toEqual(['rejected', 'outside-link']);
    expect(warnings.join('\n')).toMatch(/passwd\.png: a symbolic link to \/etc\/passwd/);
    expect(state('line\nbreak.png')).toEqual(['queued', null]);
    expect(state('cell.BMP')).toEqual(['queued', null]);
    const copies = ['patient 7/smear ü/slide №1 (copy).jpg', 'patient 7/same content, other name.jpg'].map((p) => data.files[p].state).sort();
    expect(copies).toEqual(['duplicate', 'queued']);
    // Each stray byte kept as \xNN: the name as stored is the name as shown.
    for (const name of ['caf\\xe9.bmp', '\\xff\\xfe.bmp', path.join('dir\\xe9', 'inner.bmp'), '\u001b]52;c;cHduZWQ=\u0007.bmp']) expect(state(name), name).toEqual(['queued', null]);
    expect(warnings.join('\n')).not.toMatch(/cannot list/);
    expect(Object.keys(data.files)).toHaveLength(19); // hidden and temporary files are not recorded
    expect(await store.summary()).toMatchObject({ files: { queued: 7, duplicate: 1, rejected: 11 }, slides: 7 });
    expect(await snapshot(incoming)).toEqual(before);
  });

  it('reads a slowly copied file once it is complete, and finds files added while it was off', async () => {
    const { incoming, store, start } = await setup();
    await fs.copyFile(path.join(FIXTURES, 'samples/cnmc-hem-H11-10-1.png'), path.join(incoming, 'before-start.png'));
    const { w } = start();
    await w.whenIdle();
    expect((await store.dump()).files['before-start.png'].state).toBe('queued');
    const bytes = await fs.readFile(path.join(FIXTURES, 'cnmc/hem/UID_H11_4_1_hem.bmp'));
    const target = path.join(incoming, 'slow.bmp');
    const h = await fs.open(target, 'w');
    for (let i = 0; i < bytes.length; i += 40_000) {
      await h.write(bytes.subarray(i, i + 40_000));
      await new Promise((r) => setTimeout(r, 60));
    }
    await h.close();
    await waitUntil(async () => (await store.dump()).files['slow.bmp']?.state === 'queued');
    const entry = (await store.dump()).files['slow.bmp'];
    expect(entry.size).toBe(bytes.length);
  });

  it('marks nothing gone while the incoming folder cannot be listed (a share not mounted), and goes on when it is back', async () => {
    const { incoming, store, start } = await setup();
    await fs.copyFile(path.join(FIXTURES, 'samples/cnmc-hem-H11-10-1.png'), path.join(incoming, 'a.png'));
    const { w } = start();
    await w.whenIdle();
    await fs.rename(incoming, `${incoming}.away`);
    await w.rescan();
    await w.whenIdle();
    expect((await store.dump()).files['a.png'].state).toBe('queued');
    expect((await store.summary()).slides).toBe(1);
    await fs.rename(`${incoming}.away`, incoming);
    await fs.rm(path.join(incoming, 'a.png'));
    await w.rescan();
    await waitUntil(async () => (await store.dump()).files['a.png'].state === 'gone'); // a file really removed is still gone
  });

  it('takes 1,000 files dropped at once with bounded memory', async () => {
    const { dir, incoming, store, start } = await setup();
    const staging = path.join(dir, 'staging');
    await fs.mkdir(staging);
    for (let i = 0; i < 1000; i++) {
      const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: i % 256, g: (i >> 8) * 40, b: 7 } } })
        .png()
        .toBuffer();
      await fs.writeFile(path.join(staging, `slide-${i}.png`), png);
    }
    const { w } = start();
    await w.whenIdle();
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const startRss = process.memoryUsage().rss;
    await fs.rename(staging, path.join(incoming, 'batch')); // all at once
    await waitUntil(async () => (await store.summary()).files.queued === 1000, 120_000);
    clearInterval(sampler);
    const s = await store.summary();
    expect(s.files).toEqual({ queued: 1000, duplicate: 0, rejected: 0, changed: 0, gone: 0 });
    const grewMb = (peakRss - startRss) / 2 ** 20;
    console.log(`1,000 files: peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB (+${grewMb.toFixed(0)} MB while ingesting)`);
    expect(grewMb).toBeLessThan(300);
  }, 180_000);

  it('on a large folder watches its folders, not each file: new files and folders are read, a removed file is gone', async () => {
    const { incoming, store, start } = await setup();
    const copy = (from: string, to: string) => fs.copyFile(path.join(FIXTURES, from), path.join(incoming, to));
    await fs.mkdir(path.join(incoming, 'day-1'));
    await copy('cnmc/hem/UID_H11_4_1_hem.bmp', 'day-1/a.bmp');
    await copy('cnmc/hem/UID_H11_7_1_hem.bmp', 'day-1/b.bmp');
    await copy('cnmc/hem/UID_H12_32_6_hem.bmp', 'c.bmp');
    // Three files make a large folder here (a lab's: 50,000); the walk would come round only after a minute.
    const { w, warnings } = start({ largeFolderFiles: 3, rescanMs: 60_000 });
    await w.whenIdle();
    const state = async (p: string) => (await store.dump()).files[p]?.state;
    expect([await state('day-1/a.bmp'), await state('day-1/b.bmp'), await state('c.bmp')]).toEqual(['queued', 'queued', 'queued']);
    // A file into a watched folder, a new folder with a file in it, and a removed file: each seen by its event.
    await copy('cnmc/hem/UID_H12_4_3_hem.bmp', 'day-1/d.bmp');
    await fs.mkdir(path.join(incoming, 'day-2'));
    await copy('cnmc/all/UID_14_26_2_all.bmp', 'day-2/e.bmp');
    await fs.rm(path.join(incoming, 'c.bmp'));
    await waitUntil(async () => (await state('day-1/d.bmp')) === 'queued' && (await state('day-2/e.bmp')) === 'queued' && (await state('c.bmp')) === 'gone');
    // A file copied into the new folder after it was first seen: its folder is watched too.
    await copy('cnmc/hem/UID_H11_4_1_hem.bmp', 'day-2/f.bmp');
    await waitUntil(async () => (await state('day-2/f.bmp')) === 'duplicate');
    expect(warnings).toEqual([]);
  });
});

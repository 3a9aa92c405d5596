// The image protocols' escapes, read back by decoders (kitty's and iTerm2's by our parsers, sixel's by
// jerch's `sixel` decoder), the detection's choices, and the painter's redraws on a fake terminal stream.
import { EventEmitter } from 'node:events';
import sharp from 'sharp';
import { decode as decodeSixel } from 'sixel';
import { describe, expect, it } from 'vitest';
import { kittyDelete, kittyPlaceholderLines, kittyTransmit, parseKittyCommands, readPlaceholders } from '../src/terminal/kitty.js';
import { KITTY_DIACRITICS } from '../src/terminal/kitty-diacritics.js';
import { itermImage, parseItermImages } from '../src/terminal/iterm.js';
import { sixelImage } from '../src/terminal/sixel.js';
import { wrapPassthrough } from '../src/terminal/tmux.js';
import { parseReplies } from '../src/terminal/replies.js';
import { chooseGraphics, colourDepth, type DetectionInput } from '../src/terminal/detect.js';
import { BLANK, ImagePainter } from '../src/terminal/painter.js';
import { halfBlockLines, nearest256 } from '../src/components/halfblocks.js';
import { pictureSize } from '../src/components/picture.js';

/** A 40 × 30 gradient with a red square, as RGB. */
function testImage(width = 40, height = 30): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const red = x >= 10 && x < 20 && y >= 10 && y < 20;
      rgb.set(red ? [230, 20, 20] : [x * 6, y * 8, 128], (y * width + x) * 3);
    }
  return rgb;
}

const png = (rgb: Uint8Array, width: number, height: number) =>
  sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();

describe('kitty graphics with Unicode placeholders', () => {
  it('sends the PNG in 4096-byte chunks that join back to the same bytes, and places it over columns × rows', async () => {
    const bytes = Buffer.concat([await png(testImage(), 40, 30), Buffer.alloc(9000, 7)]); // long enough for three chunks
    const chunks = kittyTransmit(7, bytes, 12, 5);
    expect(chunks.length).toBe(Math.ceil(bytes.toString('base64').length / 4096));
    const [command] = parseKittyCommands(chunks.join(''));
    expect(command.keys).toMatchObject({ a: 'T', U: '1', f: '100', i: '7', c: '12', r: '5', q: '2' });
    expect(Buffer.from(command.payload, 'base64').equals(bytes)).toBe(true);
    expect(parseKittyCommands(kittyDelete(7))[0].keys).toMatchObject({ a: 'd', d: 'I', i: '7' });
  });

  it('gives every placeholder cell its own row and column, past the table’s first 64 marks', () => {
    const lines = kittyPlaceholderLines(200, 120, 3);
    const cells = readPlaceholders(lines);
    expect(cells.map((row) => row.length)).toEqual([120, 120, 120]);
    cells.forEach((row, r) => row.forEach((cell, c) => expect(cell).toEqual({ id: 200, row: r, column: c })));
    expect(KITTY_DIACRITICS.length).toBe(297);
    expect(new Set(KITTY_DIACRITICS).size).toBe(297);
    expect(() => kittyPlaceholderLines(1, 298, 1)).toThrow(/at most 297/);
  });

  it('goes through tmux wrapped in passthrough with every ESC doubled', () => {
    const wrapped = wrapPassthrough(kittyDelete(3));
    expect(wrapped.startsWith('\u001bPtmux;\u001b\u001b_G')).toBe(true);
    expect(wrapped.endsWith('\u001b\u001b\\\u001b\\')).toBe(true);
  });
});

describe('iTerm2 inline images and sixel', () => {
  it('iTerm2: the file comes back byte for byte, sized in cells', async () => {
    const bytes = await png(testImage(), 40, 30);
    const [image] = parseItermImages(itermImage(bytes, 20, 8));
    expect(image.args).toMatchObject({ inline: '1', width: '20', height: '8', size: String(bytes.length) });
    expect(image.bytes.equals(bytes)).toBe(true);
  });

  it('sixel: decodes to the same size, the red square where it was, and colours near the source', () => {
    const rgb = testImage();
    const escape = sixelImage(rgb, 40, 30);
    expect(escape.startsWith('\u001bP')).toBe(true);
    const body = escape.slice(escape.indexOf('q') + 1);
    const image = decodeSixel(new Uint8Array(Buffer.from(body, 'latin1')));
    expect([image.width, image.height]).toEqual([40, 30]);
    let error = 0;
    for (let i = 0; i < 40 * 30; i++) {
      const v = image.data32[i];
      error += Math.abs((v & 255) - rgb[3 * i]) + Math.abs(((v >> 8) & 255) - rgb[3 * i + 1]) + Math.abs(((v >> 16) & 255) - rgb[3 * i + 2]);
    }
    expect(error / (40 * 30 * 3)).toBeLessThan(8);
    const centre = image.data32[15 * 40 + 15];
    expect([centre & 255, (centre >> 8) & 255, (centre >> 16) & 255]).toEqual([expect.closeTo(230, -1.5), expect.closeTo(20, -1.5), expect.closeTo(20, -1.5)]);
  });
});

describe('half-blocks without 24-bit colour', () => {
  it('maps to the nearest of xterm’s 256 colours, greys included', () => {
    expect(nearest256(0, 0, 0)).toBe(16);
    expect(nearest256(255, 0, 0)).toBe(196);
    expect(nearest256(128, 128, 128)).toBe(244);
    const line = halfBlockLines(new Uint8Array([255, 0, 0, 0, 0, 255]), 1, 1, '256')[0];
    expect(line).toContain('\u001b[38;5;196m\u001b[48;5;21m▀');
  });

  it('takes 24-bit colour only where COLORTERM announces it, and none without colour', () => {
    expect(colourDepth({ COLORTERM: 'truecolor', TERM: 'xterm' })).toBe('truecolor');
    expect(colourDepth({ TERM: 'xterm-256color' })).toBe('256');
    expect(colourDepth({ TERM: 'dumb', COLORTERM: 'truecolor' })).toBe('none');
    expect(colourDepth({ NO_COLOR: '1', COLORTERM: 'truecolor' })).toBe('none');
  });
});

describe('detection', () => {
  const base: DetectionInput = { setting: 'auto', env: { TERM: 'xterm' }, replies: null, tmux: null, columns: 100, rows: 30 };
  const replies = (text: string) => parseReplies(text);

  it('reads the replies: DA1, XTVERSION, the kitty answer and the cell size', () => {
    const r = replies('\u001b_Gi=31;OK\u001b\\\u001bP>|kitty(0.35.2)\u001b\\\u001b[6;20;10t\u001b[4;600;1000t\u001b[?62;4;22c');
    expect(r).toEqual({ kittyGraphics: true, da1: [62, 4, 22], version: 'kitty(0.35.2)', cell: { width: 10, height: 20 }, window: { width: 1000, height: 600 } });
  });

  it('a sixel terminal that does not say its cell size gets the configured one, or half-blocks that say how to set it', () => {
    const stockXterm = replies('\u001bP>|XTerm(379)\u001b\\\u001b[?63;1;2;4;6c'); // window operations off: no 16 t, no 14 t
    expect(chooseGraphics({ ...base, replies: stockXterm, cellPixels: '9x18' })).toMatchObject({ protocol: 'sixel', cell: { width: 9, height: 18 } });
    expect(chooseGraphics({ ...base, replies: stockXterm })).toMatchObject({ protocol: 'blocks', reason: expect.stringMatching(/display\.cellPixels.*allowWindowOps/) });
    // What the terminal says wins over the setting.
    expect(chooseGraphics({ ...base, replies: replies('\u001b[6;15;8t\u001b[?63;4c'), cellPixels: '9x18' }).cell).toEqual({ width: 8, height: 15 });
  });

  it('chooses by what the terminal answered, then by hints, and says why', () => {
    const xterm = chooseGraphics({ ...base, replies: replies('\u001bP>|XTerm(379)\u001b\\\u001b[6;15;8t\u001b[?63;1;2;4;6c') });
    expect(xterm).toMatchObject({ protocol: 'sixel', cell: { width: 8, height: 15 } });
    expect(chooseGraphics({ ...base, replies: replies('\u001b[?63;1;2;4;6c') })).toMatchObject({ protocol: 'blocks', reason: expect.stringMatching(/cell size/) });
    expect(chooseGraphics({ ...base, replies: replies('\u001b_Gi=31;OK\u001b\\\u001bP>|kitty(0.35.2)\u001b\\\u001b[?62;c') }).protocol).toBe('kitty');
    expect(chooseGraphics({ ...base, replies: replies('\u001b_Gi=31;OK\u001b\\\u001bP>|kitty(0.26.5)\u001b\\\u001b[?62;c') })).toMatchObject({
      protocol: 'blocks',
      reason: expect.stringMatching(/0\.28/),
    });
    expect(chooseGraphics({ ...base, env: { TERM_PROGRAM: 'iTerm.app' }, replies: replies('\u001b[?62;22c') }).protocol).toBe('iterm');
    expect(chooseGraphics({ ...base, replies: replies('\u001b[?62;22c') }).protocol).toBe('blocks');
  });

  it('inside tmux: says to turn passthrough on when it is off, and wraps when it is on', () => {
    const off = chooseGraphics({ ...base, env: { TERM: 'tmux-256color' }, tmux: { passthrough: false, outerTerm: 'xterm-kitty' } });
    expect(off).toMatchObject({ protocol: 'blocks', reason: expect.stringMatching(/allow-passthrough on.*\(kitty\)/) });
    const unknownOuter = chooseGraphics({ ...base, env: { TERM: 'tmux-256color' }, tmux: { passthrough: false, outerTerm: null } });
    expect(unknownOuter.reason).toMatch(/allow-passthrough on/);
    const on = chooseGraphics({ ...base, env: { TERM: 'tmux-256color' }, tmux: { passthrough: true, outerTerm: 'xterm-kitty' } });
    expect(on).toMatchObject({ protocol: 'kitty', passthrough: true });
  });

  it('obeys display.images, and draws nothing without colour', () => {
    expect(chooseGraphics({ ...base, setting: 'iterm' })).toMatchObject({ protocol: 'iterm', reason: 'display.images is iterm' });
    expect(chooseGraphics({ ...base, setting: 'kitty', env: { NO_COLOR: '1' } })).toMatchObject({ protocol: 'blocks', colour: 'none' });
  });
});

describe('sizes', () => {
  it('fits a square slide into the cells’ pixels: real pixels for sixel, two a cell for half-blocks', () => {
    expect(pictureSize({ protocol: 'sixel', cell: { width: 8, height: 15 } }, 450, 450, 98, 23)).toEqual({ width: 345, height: 345, columns: 44, rows: 23 });
    expect(pictureSize({ protocol: 'blocks', cell: null }, 450, 450, 98, 23)).toEqual({ width: 46, height: 46, columns: 46, rows: 23 });
  });
});

/** A terminal stream that records writes, with the columns and rows Ink reads. */
class FakeStream extends EventEmitter {
  written: string[] = [];
  rows = 30;
  columns = 100;
  write(chunk: string): boolean {
    this.written.push(chunk);
    return true;
  }
}

describe('the painter', () => {
  it('draws an image after each frame that rewrote its blank cells, inside the synchronized update, and not after others', () => {
    const stream = new FakeStream();
    const painter = new ImagePainter(stream as unknown as NodeJS.WriteStream, false);
    painter.install();
    painter.place(1, { escape: '<IMG>', locate: () => ({ top: 2, left: 1, frameHeight: 10 }) });
    expect(stream.written.join('')).toBe('\u001b7\u001b[8A\r\u001b[1C<IMG>\u001b8');
    stream.written = [];
    stream.write('\u001b[?2026hframe without the image\u001b[?2026l');
    expect(stream.written.join('')).not.toContain('<IMG>');
    stream.written = [];
    stream.write(`\u001b[?2026h${BLANK.repeat(4)}\n\u001b[?2026l`);
    expect(stream.written.join('')).toBe(`\u001b[?2026h${BLANK.repeat(4)}\n\u001b7\u001b[8A\r\u001b[1C<IMG>\u001b8\u001b[?2026l`);
    painter.remove(1);
    stream.written = [];
    stream.write(BLANK);
    expect(stream.written).toEqual([BLANK]);
    painter.uninstall();
  });
});

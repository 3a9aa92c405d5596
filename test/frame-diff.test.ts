/* eslint-disable no-control-regex -- the emulator reads escapes, which are control characters */
// Ink's frames cut to their changed lines (issue #36: a key that changes no picture sends no picture): the
// screen after each rewritten frame is the screen after Ink's whole frame, checked on a small emulator of
// the escapes Ink and the rewrite use; a change outside the pictures' rows does not call for them again.
import ansiEscapes from 'ansi-escapes';
import { describe, expect, it } from 'vitest';
import { BLANK } from '../src/terminal/blank.js';
import { FrameDiff } from '../src/terminal/frame-diff.js';
import { rng } from '../src/core/random.js';

/** A screen of rows × columns cells under the escapes Ink writes (text, \n, \r, CUU, CUD, EL, ED, CUP home, SGR). */
class Screen {
  cells: string[][];
  row = 0;
  col = 0;
  constructor(
    readonly rows: number,
    readonly columns: number,
  ) {
    this.cells = Array.from({ length: rows }, () => Array<string>(columns).fill(' '));
  }
  write(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '\u001b') {
        const m = /^\u001b\[([?\d;]*)([A-Za-z])/.exec(text.slice(i));
        if (!m) throw new Error(`unknown escape at ${JSON.stringify(text.slice(i, i + 8))}`);
        this.csi(m[1], m[2]);
        i += m[0].length - 1;
      } else if (c === '\n') [this.row, this.col] = [Math.min(this.rows - 1, this.row + 1), 0];
      else if (c === '\r') this.col = 0;
      else if (this.col < this.columns) this.cells[this.row][this.col++] = c;
    }
  }
  private csi(args: string, op: string): void {
    const n = Number(args || 1);
    if (op === 'A') this.row = Math.max(0, this.row - n);
    else if (op === 'B') this.row = Math.min(this.rows - 1, this.row + n);
    else if (op === 'G') this.col = 0;
    else if (op === 'C') this.col = Math.min(this.columns - 1, this.col + n);
    else if (op === 'H') [this.row, this.col] = [0, 0];
    else if (op === 'K' && args === '2') this.cells[this.row].fill(' ');
    else if (op === 'K') this.cells[this.row].fill(' ', this.col);
    else if (op === 'J' && args === '2') this.cells.forEach((r) => r.fill(' '));
  }
  text(): string {
    return this.cells.map((r) => r.join('').trimEnd()).join('\n');
  }
}

/** Ink's standard frame: the last frame's lines erased, then the new one (with its trailing newline). */
function inkFrames(frames: string[][]): string[] {
  let previous = 0;
  return frames.map((lines) => {
    const str = lines.join('\n') + '\n';
    const chunk = ansiEscapes.eraseLines(previous) + str;
    previous = str.split('\n').length;
    return chunk;
  });
}

describe('frames cut to their changed lines', () => {
  it('leave the screen as the whole frames do, through changes of lines and of height', () => {
    const random = rng(5);
    const frames: string[][] = [];
    let lines = Array.from({ length: 10 }, (_, i) => `line ${i} ${BLANK.repeat(i % 3)}`);
    for (let f = 0; f < 60; f++) {
      if (random() < 0.15) lines = Array.from({ length: 6 + Math.floor(random() * 8) }, (_, i) => `height ${f}.${i}`);
      else lines = lines.map((l) => (random() < 0.2 ? `${l.slice(0, 5)} \u001b[31m${f}\u001b[39m ${'x'.repeat(Math.floor(random() * 30))}` : l));
      frames.push(lines);
    }
    const whole = new Screen(24, 60);
    const cut = new Screen(24, 60);
    const diff = new FrameDiff();
    for (const chunk of inkFrames(frames)) {
      whole.write(chunk);
      cut.write(diff.rewrite(chunk).text);
      expect(cut.text()).toBe(whole.text());
      expect([cut.row]).toEqual([whole.row]);
    }
  });

  it('write a one-line change in a few bytes, and call for the pictures only when a picture row was written', () => {
    const picture = Array.from({ length: 12 }, (_, i) => `${BLANK.repeat(40)} p ${i}`);
    const [first, second, noteOpens, barMoves] = inkFrames([
      [...picture, 'status: 3 to review', 'keys'],
      [...picture, 'status: 2 to review', 'keys'],
      [...picture, 'Note: _', 'keys'],
      [...picture.slice(0, 11), `${BLANK.repeat(39)}▇ p 11`, 'Note: _', 'keys'],
    ]);
    const diff = new FrameDiff();
    // Ink's first frame erases nothing, so it cannot be told from any other write: it and the next go out whole.
    expect(diff.rewrite(first)).toEqual({ text: first, picturesErased: true });
    expect(diff.rewrite(second)).toEqual({ text: second, picturesErased: true });
    const note = diff.rewrite(noteOpens);
    expect(note.picturesErased).toBe(false);
    expect(Buffer.byteLength(note.text)).toBeLessThan(64);
    expect(Buffer.byteLength(noteOpens)).toBeGreaterThan(1500);
    expect(diff.rewrite(barMoves).picturesErased).toBe(true);
  });

  it('write text beside a picture from the picture’s edge on: the screen as whole frames leave it, the picture kept', () => {
    const random = rng(9);
    // A picture 12 cells wide on the first 8 rows (in a style, as Ink writes it), text beside it changing.
    const row = (i: number, f: number) => `\u001b[2m${BLANK.repeat(12)}\u001b[22m  ${random() < 0.5 ? `text ${i}` : `\u001b[32mnote ${f}\u001b[39m ${'y'.repeat(Math.floor(random() * 20))}`}`;
    const frames = Array.from({ length: 30 }, (_, f) => [...Array.from({ length: 8 }, (_, i) => row(i, f)), `keys ${f % 3}`]);
    const whole = new Screen(12, 60);
    const cut = new Screen(12, 60);
    const diff = new FrameDiff();
    for (const [k, chunk] of inkFrames(frames).entries()) {
      whole.write(chunk);
      const w = diff.rewrite(chunk);
      cut.write(w.text);
      expect(cut.text()).toBe(whole.text());
      if (k >= 2) expect(w.picturesErased, `frame ${k}`).toBe(false);
      if (k >= 2) expect(w.text).not.toContain(BLANK);
    }
  });

  it('sends the frame after a reset (a resize) whole', () => {
    const [a, b, c] = inkFrames([
      ['one', 'two'],
      ['one', 'two!'],
      ['one', 'three'],
    ]);
    const diff = new FrameDiff();
    diff.rewrite(a);
    diff.rewrite(b);
    diff.reset();
    expect(diff.rewrite(c).text).toBe(c);
  });

  it('passes through what is not a frame, and keeps a synchronized update around the cut frame', () => {
    const diff = new FrameDiff();
    expect(diff.rewrite('\u001b[?25l')).toEqual({ text: '\u001b[?25l', picturesErased: false });
    const [a, a2, b] = inkFrames([
      ['one', 'two'],
      ['one', 'two!'],
      ['one', 'three'],
    ]);
    diff.rewrite(a);
    diff.rewrite(a2);
    const cut = diff.rewrite(`\u001b[?2026h${b}\u001b[?2026l`).text;
    expect(cut.startsWith('\u001b[?2026h')).toBe(true);
    expect(cut.endsWith('\u001b[?2026l')).toBe(true);
    expect(cut).not.toMatch(/one/);
  });
});

// Sixel and iTerm2 images are not text: the terminal paints them over cells at the cursor, and Ink knows
// nothing of them. The painter draws each one after every frame write that rewrote its cells. The image's
// cells are filled with BLANK (U+2800, a blank that no other text here uses), so a frame write that holds
// one erased an image's rows. Ink rewrites the whole frame when anything changes, so an image is drawn
// again after each frame while it is on screen, inside the frame's synchronized update where the terminal
// has one (no flicker). The position comes from the layout (rows up from the cursor, which Ink leaves
// below its frame). Kitty's transmissions go through `send`, outside the frame.
import { safeFrame } from '../core/safe-text.js';
import { BLANK } from './blank.js';
import { FrameDiff } from './frame-diff.js';
import { wrapPassthrough } from './tmux.js';

export { BLANK };
const ESC = '\u001b';
/** The end of a synchronized update (mode 2026), which Ink puts around its frames. */
const END_SYNC = `${ESC}[?2026l`;

export interface Placement {
  /** The image's top-left cell within Ink's frame, and the frame's height in rows. */
  locate(): { top: number; left: number; frameHeight: number } | null;
  /** The escape that draws it at the cursor. */
  escape: string;
}

type Write = NodeJS.WriteStream['write'];

export class ImagePainter {
  private readonly placements = new Map<number, Placement>();
  private original: Write | null = null;
  /** Ink's frames cut to their changed lines, so that a picture is sent again only when its rows were written. */
  private readonly frames = new FrameDiff();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly passthrough: boolean,
  ) {}

  /** Hooks the stream's writes (Ink's frames) so that images are repainted after the frames that erase them. */
  install(): void {
    if (this.original) return;
    const stream = this.stream;
    const original = stream.write;
    this.original = original;
    // A resized terminal may have reflowed the lines on screen: the next frame goes out whole.
    stream.on?.('resize', this.forgetFrame);
    const write = (data: unknown, ...more: unknown[]) => (original as (...a: unknown[]) => boolean).call(stream, data, ...more);
    // Every frame of Ink's passes here, so this is also where escapes that came from data are disarmed.
    stream.write = ((data: unknown, ...rest: unknown[]) => {
      if (typeof data !== 'string') return write(data, ...rest);
      const { text: chunk, picturesErased } = this.frames.rewrite(safeFrame(data));
      if (!this.placements.size || !picturesErased) return write(chunk, ...rest);
      const end = chunk.endsWith(END_SYNC) ? chunk.length - END_SYNC.length : chunk.length;
      write(chunk.slice(0, end));
      this.paintAll();
      return write(chunk.slice(end), ...rest);
    }) as Write;
  }

  private readonly forgetFrame = () => this.frames.reset();

  uninstall(): void {
    this.stream.off?.('resize', this.forgetFrame);
    if (this.original) this.stream.write = this.original;
    this.original = null;
  }

  /** Writes an escape straight to the terminal, through tmux's passthrough when that is on. */
  send(sequence: string): void {
    this.raw(this.passthrough ? wrapPassthrough(sequence) : sequence);
  }

  private raw(text: string): void {
    (this.original ?? this.stream.write).call(this.stream, text);
  }

  /** Draws an image now and after every frame that rewrites its cells. */
  place(id: number, placement: Placement): void {
    this.placements.set(id, placement);
    this.paint(placement);
  }

  remove(id: number): void {
    this.placements.delete(id);
  }

  private paintAll(): void {
    for (const p of this.placements.values()) this.paint(p);
  }

  private paint(p: Placement): void {
    const at = p.locate();
    if (!at) return;
    // Ink ends a frame with a newline unless it fills the terminal: the cursor is then below its last row.
    const cursorRow = at.frameHeight >= (this.stream.rows ?? Infinity) ? at.frameHeight - 1 : at.frameHeight;
    const up = cursorRow - at.top;
    if (up <= 0) return;
    // The cursor moves are tmux's own business; only the image goes through to the outer terminal.
    this.raw(`${ESC}7${ESC}[${up}A\r${at.left ? `${ESC}[${at.left}C` : ''}`);
    this.send(p.escape);
    this.raw(`${ESC}8`);
  }
}

// What a terminal answers to the queries that detection sends, read from the bytes it sent back.
/* eslint-disable no-control-regex -- terminal replies and escapes are control characters */

export interface TerminalReplies {
  /** The kitty graphics query came back OK. */
  kittyGraphics: boolean;
  /** The primary device attributes (DA1) came back; they list 4 when sixel graphics are there. */
  da1: number[] | null;
  /** XTVERSION: the terminal's name and version, e.g. "kitty(0.26.5)", "XTerm(379)". */
  version: string | null;
  /** CSI 16 t: one cell in pixels. */
  cell: { width: number; height: number } | null;
  /** CSI 14 t: the text area in pixels. */
  window: { width: number; height: number } | null;
}

const ESC = '\u001b';

/** The queries, in the order their replies are read: DA1 last, since every terminal answers it. */
export const QUERIES = {
  kittyGraphics: `${ESC}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA${ESC}\\`,
  version: `${ESC}[>0q`,
  cell: `${ESC}[16t`,
  window: `${ESC}[14t`,
  da1: `${ESC}[c`,
};

export function parseReplies(text: string): TerminalReplies {
  const da1 = /\u001b\[\?([\d;]*)c/.exec(text);
  const version = /\u001bP>\|([^\u001b]*)\u001b\\/.exec(text);
  const cell = /\u001b\[6;(\d+);(\d+)t/.exec(text);
  const window = /\u001b\[4;(\d+);(\d+)t/.exec(text);
  const size = (m: RegExpExecArray | null) => (m && Number(m[1]) > 0 && Number(m[2]) > 0 ? { height: Number(m[1]), width: Number(m[2]) } : null);
  return {
    kittyGraphics: /\u001b_Gi=31;OK\u001b\\/.test(text),
    da1: da1 ? da1[1].split(';').filter(Boolean).map(Number) : null,
    version: version ? version[1] : null,
    cell: size(cell),
    window: size(window),
  };
}

/** Whether the replies are complete: DA1, the last query's answer, has come. */
export function repliesComplete(text: string): boolean {
  return /\u001b\[\?[\d;]*c/.test(text);
}

/** "kitty(0.26.5)" / "kitty 0.35.2" → [0, 26, 5] when the name is kitty's, else null. */
export function kittyVersion(version: string | null): number[] | null {
  const m = version ? /^kitty[ (]([\d.]+)/i.exec(version) : null;
  return m ? m[1].split('.').map(Number) : null;
}

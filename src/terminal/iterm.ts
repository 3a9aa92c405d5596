// iTerm2's inline images (also WezTerm, mintty, Konsole): the file, base64, in one OSC 1337 drawn at the
// cursor over width × height cells. https://iterm2.com/documentation-images.html
/* eslint-disable no-control-regex -- terminal replies and escapes are control characters */
const ESC = '\u001b';
const BEL = '\u0007';

export function itermImage(png: Buffer, columns: number, rows: number): string {
  const args = `inline=1;size=${png.length};width=${columns};height=${rows};preserveAspectRatio=0;doNotMoveCursor=1`;
  return `${ESC}]1337;File=${args}:${png.toString('base64')}${BEL}`;
}

/** The images in a stream: their arguments and bytes (for tests). */
export function parseItermImages(stream: string): { args: Record<string, string>; bytes: Buffer }[] {
  return [...stream.matchAll(/\u001b\]1337;File=([^:]*):([^\u0007]*)\u0007/g)].map((m) => ({
    args: Object.fromEntries(m[1].split(';').map((kv) => kv.split('=') as [string, string])),
    bytes: Buffer.from(m[2], 'base64'),
  }));
}

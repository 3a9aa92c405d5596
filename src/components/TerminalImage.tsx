// An image drawn in the terminal with half-block cells (terminal-image, never the terminal's native
// image protocols, which would break Ink's layout). Without colour it prints nothing but its caption.
import React, { useEffect, useState } from 'react';
import fs from 'node:fs/promises';
import { Box, Text } from 'ink';
import terminalImage from 'terminal-image';

export function colourAvailable(): boolean {
  return !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

/** RGB of xterm's 256-colour palette entry n. */
function xterm256(n: number): [number, number, number] {
  if (n < 16) {
    const base = [[0, 0, 0], [205, 0, 0], [0, 205, 0], [205, 205, 0], [0, 0, 238], [205, 0, 205], [0, 205, 205], [229, 229, 229], [127, 127, 127], [255, 0, 0], [0, 255, 0], [255, 255, 0], [92, 92, 255], [255, 0, 255], [0, 255, 255], [255, 255, 255]];
    return base[n] as [number, number, number];
  }
  if (n < 232) {
    const c = n - 16;
    const level = (v: number) => (v ? 55 + v * 40 : 0);
    return [level(Math.floor(c / 36)), level(Math.floor(c / 6) % 6), level(c % 6)];
  }
  const g = 8 + (n - 232) * 10;
  return [g, g, g];
}

const ESC = '\u001b';
const PALETTE_ESCAPE = new RegExp(`${ESC}\\[(38|48);5;(\\d+)m`, 'g');

/**
 * Ink's layout mis-measures 256-colour escapes (38;5;n / 48;5;n) and breaks the lines beside an image;
 * it handles 24-bit ones. So the image's palette escapes are rewritten as the same colours in 24 bits.
 */
export function toTrueColour(art: string): string {
  return art.replace(PALETTE_ESCAPE, (_, kind: string, n: string) => `${ESC}[${kind};2;${xterm256(Number(n)).join(';')}m`);
}

export function TerminalImage({ file, width, height, caption }: { file: string | null; width: number; height: number; caption: string }) {
  // Drawn art is kept with the request it answers, so a stale drawing is never shown for a new file.
  const request = `${file}|${width}|${height}`;
  const [drawn, setDrawn] = useState<{ request: string; art: string | null; error: string | null } | null>(null);
  useEffect(() => {
    let live = true;
    if (!file || !colourAvailable()) return;
    (async () => {
      const png = await fs.readFile(file);
      const text = await terminalImage.buffer(png, { width, height, preserveAspectRatio: true, preferNativeRender: false });
      if (live) setDrawn({ request, art: toTrueColour(text.replace(/\n$/, '')), error: null });
    })().catch((err: Error) => live && setDrawn({ request, art: null, error: err.message }));
    return () => {
      live = false;
    };
  }, [file, width, height, request]);
  const art = drawn?.request === request ? drawn.art : null;
  const error = drawn?.request === request ? drawn.error : null;
  return (
    <Box flexDirection="column" width={width + 1}>
      {art ? <Text wrap="truncate">{art}</Text> : <Text dimColor>{error ? `(cannot draw: ${error})` : file ? (colourAvailable() ? '…' : '(no colour: image not drawn)') : '(not computed yet)'}</Text>}
      <Text wrap="truncate-end">{caption}</Text>
    </Box>
  );
}

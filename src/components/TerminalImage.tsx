// An image drawn in the terminal with half-block cells in 24-bit colour from its own pixels (halfblocks.ts).
// Without colour it prints nothing but its caption.
import React, { useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import { drawHalfBlocks } from './halfblocks.js';

export function colourAvailable(): boolean {
  return !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

export function TerminalImage({ file, width, height, caption }: { file: string | null; width: number; height: number; caption: string }) {
  // Drawn art is kept with the request it answers, so a stale drawing is never shown for a new file.
  const request = `${file}|${width}|${height}`;
  const [drawn, setDrawn] = useState<{ request: string; art: string | null; error: string | null } | null>(null);
  useEffect(() => {
    let live = true;
    if (!file || !colourAvailable()) return;
    (async () => {
      const cells = await drawHalfBlocks(file, width, height);
      if (live) setDrawn({ request, art: cells.lines.join('\n'), error: null });
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

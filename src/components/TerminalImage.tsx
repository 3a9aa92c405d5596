// An image file drawn in at most width × height cells by the terminal's protocol (PixelImage), with its
// caption under it. Without colour it prints nothing but its caption.
import React, { useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import { useGraphics } from '../contexts/GraphicsContext.js';
import { loadPicture, type Picture } from './picture.js';
import { PixelImage } from './PixelImage.js';

export function colourAvailable(): boolean {
  return !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

export function TerminalImage({ file, width, height, caption }: { file: string | null; width: number; height: number; caption: string }) {
  const { graphics } = useGraphics();
  // The picture is kept with the request it answers, so a stale one is never shown for a new file.
  const request = `${file}|${width}|${height}`;
  const [drawn, setDrawn] = useState<{ request: string; picture: Picture | null; error: string | null } | null>(null);
  useEffect(() => {
    let live = true;
    if (!file || !colourAvailable()) return;
    loadPicture(graphics, file, width, height).then(
      (picture) => live && setDrawn({ request, picture, error: null }),
      (err: Error) => live && setDrawn({ request, picture: null, error: err.message }),
    );
    return () => {
      live = false;
    };
  }, [file, width, height, request, graphics]);
  const picture = drawn?.request === request ? drawn.picture : null;
  const error = drawn?.request === request ? drawn.error : null;
  return (
    <Box flexDirection="column" width={width + 1}>
      {picture ? (
        <PixelImage picture={picture} />
      ) : (
        <Text dimColor>{error ? `(cannot draw: ${error})` : file ? (colourAvailable() ? '…' : '(no colour: image not drawn)') : '(not computed yet)'}</Text>
      )}
      <Text wrap="truncate-end">{caption}</Text>
    </Box>
  );
}

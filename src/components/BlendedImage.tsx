// The slide with a map over it at a chosen opacity, as large as fits, from the slide's own pixels where
// they are given (picture.ts, zoomPicture), then drawn by the terminal's protocol.
import React, { useEffect, useState } from 'react';
import { Text } from 'ink';
import { useGraphics } from '../contexts/GraphicsContext.js';
import { zoomPicture, type Picture, type RgbPixels } from './picture.js';
import { PixelImage } from './PixelImage.js';

export function BlendedImage({ original, base, overlay, opacity, columns, rows }: { original: Promise<RgbPixels | null> | null; base: string | null; overlay: string | null; opacity: number; columns: number; rows: number }) {
  const { graphics } = useGraphics();
  const request = `${base}|${overlay}|${opacity}|${columns}|${rows}`;
  const [drawn, setDrawn] = useState<{ request: string; picture: Picture | null; error: string | null } | null>(null);
  useEffect(() => {
    let live = true;
    if (!base) return;
    Promise.resolve(original)
      .then((pixels) => zoomPicture(graphics, pixels ?? null, base, overlay, opacity, columns, rows))
      .then(
      (picture) => live && setDrawn({ request, picture, error: null }),
      (err: Error) => live && setDrawn({ request, picture: null, error: err.message }),
    );
    return () => {
      live = false;
    };
  }, [original, base, overlay, opacity, columns, rows, request, graphics]);
  const picture = drawn?.request === request ? drawn.picture : null;
  if (!picture) return <Text dimColor>{drawn?.error ? `(cannot draw: ${drawn.error})` : base ? '…' : '(not computed yet)'}</Text>;
  return <PixelImage picture={picture} />;
}

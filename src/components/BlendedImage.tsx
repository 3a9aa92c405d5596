// The slide with a map over it at a chosen opacity, as large as fits, from the slide's own pixels where
// they are given (picture.ts, zoomPicture), then drawn by the terminal's protocol.
import React, { useEffect, useState } from 'react';
import { Text } from 'ink';
import { useGraphics } from '../contexts/GraphicsContext.js';
import { zoomPicture, type Picture, type RgbPixels } from './picture.js';
import { PixelImage } from './PixelImage.js';

export function BlendedImage({
  original,
  base,
  overlay,
  opacity,
  columns,
  rows,
}: {
  original: Promise<RgbPixels | null> | null;
  base: string | null;
  overlay: string | null;
  opacity: number;
  columns: number;
  rows: number;
}) {
  const { graphics } = useGraphics();
  const request = `${base}|${overlay}|${opacity}|${columns}|${rows}`;
  const [drawn, setDrawn] = useState<{ request: string; base: string; picture: Picture | null; error: string | null } | null>(null);
  useEffect(() => {
    let live = true;
    if (!base) return;
    Promise.resolve(original)
      .then((pixels) => zoomPicture(graphics, pixels ?? null, base, overlay, opacity, columns, rows))
      .then(
        (picture) => live && setDrawn({ request, base, picture, error: null }),
        (err: Error) => live && setDrawn({ request, base, picture: null, error: err.message }),
      );
    return () => {
      live = false;
    };
  }, [original, base, overlay, opacity, columns, rows, request, graphics]);
  // While another map or opacity of the same slide is made (about 0.1 s), the last picture stays, so
  // that the screen does not collapse and grow back on every Tab; another slide's picture never does.
  const picture = drawn && (drawn.request === request || (drawn.base === base && drawn.picture)) ? drawn.picture : null;
  if (!picture) return <Text dimColor>{drawn?.request === request && drawn.error ? `(cannot draw: ${drawn.error})` : base ? '…' : '(not computed yet)'}</Text>;
  return <PixelImage picture={picture} />;
}

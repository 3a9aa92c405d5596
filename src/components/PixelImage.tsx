// A picture drawn by the terminal's protocol (GraphicsContext): half-blocks as coloured text; kitty as
// placeholder text after the image is sent once; sixel and iTerm2 as blank cells that the painter draws
// the image over after each frame that rewrites them. Each image is sent once per picture and freed when
// it changes or leaves, so that nothing stays on screen after a view changes.
import React, { useEffect, useMemo, useRef, useState } from 'react';
import sharp from 'sharp';
import { Box, Text, type DOMElement } from 'ink';
import { useGraphics } from '../contexts/GraphicsContext.js';
import { halfBlockLines } from './halfblocks.js';
import type { Picture } from './picture.js';
import { kittyDelete, kittyPlaceholderLines, kittyTransmit } from '../terminal/kitty.js';
import { itermImage } from '../terminal/iterm.js';
import { sixelImage } from '../terminal/sixel.js';
import { BLANK } from '../terminal/painter.js';

let lastId = 0;
/** Kitty image ids ride a 256-colour foreground, so they run 1–255. */
function nextImageId(): number {
  lastId = (lastId % 255) + 1;
  return lastId;
}

/** Where a box sits in Ink's frame: its offsets summed up to the root, and the root's height. */
function frameLocation(node: DOMElement | null): { top: number; left: number; frameHeight: number } | null {
  let top = 0;
  let left = 0;
  let n: DOMElement | undefined = node ?? undefined;
  let root: DOMElement | undefined;
  for (; n; n = n.parentNode) {
    if (n.yogaNode) {
      top += n.yogaNode.getComputedTop();
      left += n.yogaNode.getComputedLeft();
    }
    root = n;
  }
  return root?.yogaNode ? { top, left, frameHeight: root.yogaNode.getComputedHeight() } : null;
}

function pngOf(p: Picture): Promise<Buffer> {
  return sharp(Buffer.from(p.rgb.buffer, p.rgb.byteOffset, p.rgb.byteLength), { raw: { width: p.width, height: p.height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

export function PixelImage({ picture }: { picture: Picture }) {
  const { graphics, painter } = useGraphics();
  const protocol = painter ? graphics.protocol : 'blocks';
  const box = useRef<DOMElement>(null);
  const [kittyId, setKittyId] = useState<number | null>(null);
  // The text of the picture's cells, made once per picture (a frame redraws often: the status bar, keys).
  const colour = graphics.colour === '256' ? '256' : 'truecolor';
  const lines = useMemo(() => {
    if (protocol === 'blocks') return halfBlockLines(picture.rgb, picture.columns, picture.rows, colour);
    if (protocol === 'kitty' && kittyId) return kittyPlaceholderLines(kittyId, picture.columns, picture.rows);
    return Array.from({ length: picture.rows }, () => BLANK.repeat(picture.columns));
  }, [picture, protocol, colour, kittyId]);
  useEffect(() => {
    if (!painter || protocol === 'blocks') return;
    const id = nextImageId();
    let live = true;
    (async () => {
      if (protocol === 'sixel') return painter.place(id, { escape: sixelImage(picture.rgb, picture.width, picture.height), locate: () => frameLocation(box.current) });
      const png = await pngOf(picture);
      if (!live) return;
      if (protocol === 'iterm') return painter.place(id, { escape: itermImage(png, picture.columns, picture.rows), locate: () => frameLocation(box.current) });
      for (const chunk of kittyTransmit(id, png, picture.columns, picture.rows)) painter.send(chunk);
      setKittyId(id);
    })().catch(() => undefined);
    return () => {
      live = false;
      setKittyId(null);
      painter.remove(id);
      if (protocol === 'kitty') painter.send(kittyDelete(id));
    };
  }, [picture, painter, protocol]);
  if (protocol === 'blocks') return <TextRows lines={lines} />;
  return (
    <Box ref={box} flexDirection="column" width={picture.columns} flexShrink={0}>
      <TextRows lines={lines} />
    </Box>
  );
}

function TextRows({ lines }: { lines: string[] }) {
  return (
    <>
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate">
          {l}
        </Text>
      ))}
    </>
  );
}

// The slide with a map over it at a chosen opacity, in as many half-block cells as fit: the map's
// overlay PNG (drawn at the opacity the configuration sets) is mixed back towards the plain image.
import React, { useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import { cellPixels, cellsFor, halfBlockLines } from './halfblocks.js';

/** base + t · (overlay − base), both resized to columns × 2·rows. */
export async function blendCells(base: string, overlay: string | null, t: number, columns: number, rows: number): Promise<string[]> {
  const size = await cellsFor(base, columns, rows);
  const a = await cellPixels(base, size);
  if (overlay && t > 0) {
    const b = await cellPixels(overlay, size);
    for (let i = 0; i < a.length; i++) a[i] = Math.round(a[i] + t * (b[i] - a[i]));
  }
  return halfBlockLines(a, size.columns, size.rows);
}

export function BlendedImage({ base, overlay, opacity, columns, rows }: { base: string | null; overlay: string | null; opacity: number; columns: number; rows: number }) {
  const request = `${base}|${overlay}|${opacity}|${columns}|${rows}`;
  const [drawn, setDrawn] = useState<{ request: string; lines: string[] | null; error: string | null } | null>(null);
  useEffect(() => {
    let live = true;
    if (!base) return;
    blendCells(base, overlay, opacity, columns, rows).then(
      (lines) => live && setDrawn({ request, lines, error: null }),
      (err: Error) => live && setDrawn({ request, lines: null, error: err.message }),
    );
    return () => {
      live = false;
    };
  }, [base, overlay, opacity, columns, rows, request]);
  const lines = drawn?.request === request ? drawn.lines : null;
  if (!lines) return <Text dimColor>{drawn?.error ? `(cannot draw: ${drawn.error})` : base ? '…' : '(not computed yet)'}</Text>;
  return (
    <Box flexDirection="column">
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate">
          {l}
        </Text>
      ))}
    </Box>
  );
}

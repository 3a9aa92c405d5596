// A screen's content as lines, of which as many as fit are shown from `offset` on: the help and the
// benchmarks are taller than an 80 × 24 terminal, and Ink does not scroll.
import React from 'react';
import { Box, Text } from 'ink';
import { visible } from '../core/safe-text.js';

export interface Segment {
  text: string;
  bold?: boolean;
  dim?: boolean;
  underline?: boolean;
  color?: 'yellow' | 'green' | 'cyan';
}
/** One terminal row; it is cut at the screen's edge, never wrapped (wrap before, with wrap-ansi). */
export type Line = Segment[];

export const line = (text: string, style: Omit<Segment, 'text'> = {}): Line => [{ text, ...style }];

/** Rows of content that fit in `height` rows, one being kept for the position line. */
export function contentRows(height: number): number {
  return Math.max(1, height - 1);
}

/** The first line shown: `offset`, held where the last page still fills the rows. */
function firstShown(count: number, height: number, offset: number): number {
  return Math.max(0, Math.min(offset, count - contentRows(height)));
}

export function ScrollLines({ lines, height, offset }: { lines: Line[]; height: number; offset: number }) {
  const scrolls = lines.length > height;
  const rows = scrolls ? contentRows(height) : lines.length;
  const start = scrolls ? firstShown(lines.length, height, offset) : 0;
  const shown = lines.slice(start, start + rows);
  return (
    <Box flexDirection="column">
      {shown.map((l, i) => (
        <Text key={start + i} wrap="truncate-end">
          {l.length
            ? l.map((s, j) => (
                <Text key={j} bold={s.bold} dimColor={s.dim} underline={s.underline} color={s.color}>
                  {visible(s.text)}
                </Text>
              ))
            : ' '}
        </Text>
      ))}
      {scrolls ? <Text dimColor>{`lines ${start + 1}–${start + shown.length} of ${lines.length}${start + rows < lines.length ? ' · more below' : ''}`}</Text> : null}
    </Box>
  );
}

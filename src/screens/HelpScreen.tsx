// Every key, generated from the one keymap: the keys of the screen it was opened from first, then the rest.
// It scrolls, since the whole list is taller than an 80 × 24 terminal.
import React from 'react';
import { Box, Text } from 'ink';
import wrapAnsi from 'wrap-ansi';
import { KEYMAP, type Context } from '../keymap.js';
import { ScrollLines, type Line } from '../components/ScrollLines.js';

const TITLES: Record<Context, string> = {
  global: 'Everywhere',
  queue: 'Queue',
  slide: 'Slide',
  zoom: 'Zoomed slide',
  note: 'Writing a note',
  retrain: 'Retrain and model versions',
  benchmarks: 'Benchmarks',
  help: 'This list',
};
const ORDER: Context[] = ['global', 'queue', 'slide', 'zoom', 'note', 'retrain', 'benchmarks', 'help'];
const LABEL_WIDTH = 7;

function sectionsFrom(from: Context): Context[] {
  const first: Context[] = from === 'zoom' ? ['zoom', 'slide', 'note'] : from === 'slide' || from === 'note' ? ['slide', 'zoom', 'note'] : from === 'global' || from === 'help' ? [] : [from];
  return [...first, ...ORDER.filter((c) => !first.includes(c))];
}

/** The list as terminal lines at this width: a long description wraps under itself, not under the key. */
export function helpLines(from: Context, width: number): Line[] {
  const textWidth = Math.max(20, width - 2 - LABEL_WIDTH);
  const lines: Line[] = [];
  for (const c of sectionsFrom(from)) {
    if (lines.length) lines.push([]);
    lines.push([{ text: TITLES[c], underline: true }]);
    for (const k of KEYMAP.filter((b) => b.context === c)) {
      const [head, ...rest] = wrapAnsi(k.description, textWidth, { hard: true }).split('\n');
      lines.push([{ text: k.label.padEnd(LABEL_WIDTH), bold: true }, { text: head }]);
      for (const more of rest) lines.push([{ text: ' '.repeat(LABEL_WIDTH) + more }]);
    }
  }
  return lines;
}

/** The rows the list itself gets out of the screen's `height` (the title takes one). */
export const helpListHeight = (height: number) => height - 1;

export function HelpScreen({ from, width, height, offset }: { from: Context; width: number; height: number; offset: number }) {
  const lines = helpLines(from, width);
  const listHeight = helpListHeight(height);
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold>Keys (? or Esc closes{lines.length > listHeight ? ' · ↑↓ j k scroll · Space next page' : ''})</Text>
      <ScrollLines lines={lines} height={listHeight} offset={offset} />
    </Box>
  );
}

// Every key, generated from the one keymap: the keys of the screen it was opened from first, then the rest.
// It scrolls, since the whole list is taller than an 80 × 24 terminal.
import React from 'react';
import { Box, Text } from 'ink';
import wrapAnsi from 'wrap-ansi';
import { KEYMAP, type Context } from '../keymap.js';

const TITLES: Record<Context, string> = { global: 'Everywhere', queue: 'Queue', slide: 'Slide', note: 'Writing a note', retrain: 'Retrain and model versions', benchmarks: 'Benchmarks', help: 'This list' };
const ORDER: Context[] = ['global', 'queue', 'slide', 'note', 'retrain', 'benchmarks', 'help'];
const LABEL_WIDTH = 7;
/** Rows the title and the position line take. */
const CHROME = 2;

export interface HelpLine {
  kind: 'section' | 'key' | 'more' | 'blank';
  label?: string;
  text: string;
}

function sectionsFrom(from: Context): Context[] {
  const first: Context[] = from === 'slide' || from === 'note' ? ['slide', 'note'] : from === 'global' || from === 'help' ? [] : [from];
  return [...first, ...ORDER.filter((c) => !first.includes(c))];
}

/** The list as terminal lines at this width: a long description wraps under itself, not under the key. */
export function helpLines(from: Context, width: number): HelpLine[] {
  const textWidth = Math.max(20, width - 2 - LABEL_WIDTH);
  const lines: HelpLine[] = [];
  for (const c of sectionsFrom(from)) {
    if (lines.length) lines.push({ kind: 'blank', text: '' });
    lines.push({ kind: 'section', text: TITLES[c] });
    for (const k of KEYMAP.filter((b) => b.context === c)) {
      const [head, ...rest] = wrapAnsi(k.description, textWidth, { hard: true }).split('\n');
      lines.push({ kind: 'key', label: k.label, text: head });
      for (const more of rest) lines.push({ kind: 'more', text: more });
    }
  }
  return lines;
}

/** How many lines of the list fit in `height` rows. */
export function helpRows(height: number): number {
  return Math.max(1, height - CHROME);
}

export function HelpScreen({ from, width, height, offset }: { from: Context; width: number; height: number; offset: number }) {
  const lines = helpLines(from, width);
  const rows = helpRows(height);
  const start = Math.min(offset, Math.max(0, lines.length - rows));
  const shown = lines.slice(start, start + rows);
  const scrolls = lines.length > rows;
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold>Keys (? or Esc closes{scrolls ? ' · ↑↓ j k scroll · Space next page' : ''})</Text>
      {shown.map((l, i) => (
        <Text key={start + i} wrap="truncate-end">
          {l.kind === 'section' ? <Text underline>{l.text}</Text> : null}
          {l.kind === 'key' ? (
            <>
              <Text bold>{(l.label ?? '').padEnd(LABEL_WIDTH)}</Text>
              {l.text}
            </>
          ) : null}
          {l.kind === 'more' ? `${' '.repeat(LABEL_WIDTH)}${l.text}` : null}
          {l.kind === 'blank' ? ' ' : null}
        </Text>
      ))}
      {scrolls ? <Text dimColor>{`lines ${start + 1}–${start + shown.length} of ${lines.length}${start + rows < lines.length ? ' · more below' : ''}`}</Text> : null}
    </Box>
  );
}

// The queue: every slide with its state, predicted label, confidence and uncertainty margin.
import React from 'react';
import { Box, Text } from 'ink';
import type { SlideRow } from '../queue/rows.js';
import type { FileEntry } from '../store/schema.js';
import type { TriageState } from '../state/triage.js';
import { KeyHints } from '../components/KeyHints.js';

const pct = (x: number | null) => (x === null ? '   –  ' : `${(x * 100).toFixed(1).padStart(5)}%`);

/** `selected`: the selected slide's row, found by its sha256 (state.selected is only where it was). */
export function QueueScreen({
  rows,
  rejected,
  state,
  selected: cursor,
  height,
  incoming,
  modelReady,
}: {
  rows: SlideRow[];
  rejected: FileEntry[];
  state: TriageState;
  selected: number;
  height: number;
  incoming: string;
  modelReady: boolean;
}) {
  const visible = Math.max(3, height - 6);
  const title = `Queue — ${state.stateFilter}${state.labelFilter ? `, predicted ${state.labelFilter}` : ''}, sorted by ${state.sort === 'uncertainty' ? `uncertainty (${rows.some((r) => r.unusual) ? '⚠ first, then ' : ''}smallest margin first)` : 'arrival'}`;
  if (state.stateFilter === 'rejected') {
    return (
      <Box flexDirection="column" paddingX={1}>
        <Text bold>Rejected files ({rejected.length})</Text>
        {rejected.slice(0, visible).map((f) => (
          <Text key={f.path} wrap="truncate-end">
            {f.path.replace(/\n/g, '⏎')} — {f.code}: {f.reason}
          </Text>
        ))}
        {rejected.length > visible ? <Text dimColor>… and {rejected.length - visible} more: `slidetriage status` lists them all</Text> : null}
        <KeyHints context="queue" only={['filter-state']} />
      </Box>
    );
  }
  if (!rows.length) {
    return (
      <Box flexDirection="column" paddingX={1}>
        <Text bold>{title}</Text>
        <Text>
          No slides {state.stateFilter === 'all' ? 'yet' : `${state.stateFilter}`}. Watching <Text bold>{incoming}</Text>: copy images there (jpg, png, bmp, tif), or press <Text bold>c</Text> to copy
          in the bundled samples.
        </Text>
        {!modelReady && <Text color="yellow">No model is loaded: slides are accounted for but not classified.</Text>}
        <KeyHints context="queue" only={['filter-state', 'sort', 'copy-samples']} />
      </Box>
    );
  }
  const start = Math.min(Math.max(0, cursor - Math.floor(visible / 2)), Math.max(0, rows.length - visible));
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold wrap="truncate-end">
        {title} — {rows.length} slide(s)
      </Text>
      <Text dimColor wrap="truncate-end">
        {'  '}
        {'state'.padEnd(10)} {'predicted'.padEnd(10)} {'conf.'.padStart(6)} {'margin'.padStart(6)} {'label'.padEnd(8)} file
      </Text>
      {rows.slice(start, start + visible).map((r, i) => {
        const selected = start + i === cursor;
        return (
          <Text key={r.sha256} inverse={selected} wrap="truncate-end">
            {selected ? '› ' : '  '}
            {r.state.padEnd(10)} {(r.unusual ? `⚠${r.predicted ?? ''}` : (r.predicted ?? '…')).padEnd(10)} {pct(r.confidence)} {pct(r.margin)} {(r.label ?? '').padEnd(8)} {r.path.replace(/\n/g, '⏎')}
            {r.openBy ? ` (open: ${r.openBy})` : ''}
          </Text>
        );
      })}
      {rows.some((r) => r.unusual) ? <Text color="red">⚠ unlike the model&apos;s training images: its confidence means little there — check by eye</Text> : null}
      <KeyHints context="queue" only={['up', 'down', 'open', 'sort', 'filter-state', 'filter-label']} />
    </Box>
  );
}

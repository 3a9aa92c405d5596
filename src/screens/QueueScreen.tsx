// The queue: every slide with its state, predicted label, confidence and uncertainty margin.
import React from 'react';
import { Box, Text } from 'ink';
import type { SlideRow } from '../queue/rows.js';
import type { FileEntry } from '../store/schema.js';
import type { TriageState } from '../state/triage.js';
import { KeyHints } from '../components/KeyHints.js';
import { visible as visibleText } from '../core/safe-text.js';

const pct = (x: number | null) => (x === null ? '   –  ' : `${(x * 100).toFixed(1).padStart(5)}%`);

/** `selected`: the selected slide's row, found by its sha256 (state.selected is only where it was). */
export function QueueScreen({
  order,
  rows,
  rejected,
  rejectedCount,
  state,
  selected: cursor,
  height,
  incoming,
  modelReady,
  loaded = true,
}: {
  /** The list's keys in order, and the rows fetched (those around the selection). */
  order: string[];
  rows: ReadonlyMap<string, SlideRow>;
  /** The first rejected files by name, and how many there are. */
  rejected: FileEntry[];
  rejectedCount: number;
  state: TriageState;
  /** False until the store's first read: the list is not known to be empty yet. */
  loaded?: boolean;
  selected: number;
  height: number;
  incoming: string;
  modelReady: boolean;
}) {
  const visible = Math.max(3, height - 6);
  const start = Math.min(Math.max(0, cursor - Math.floor(visible / 2)), Math.max(0, order.length - visible));
  const shown = order.slice(start, start + visible).map((sha) => rows.get(sha));
  const unusual = shown.some((r) => r?.unusual);
  const title = `Queue — ${state.stateFilter}${state.labelFilter ? `, predicted ${state.labelFilter}` : ''}, sorted by ${state.sort === 'uncertainty' ? `uncertainty (${unusual ? '⚠ first, then ' : ''}smallest margin first)` : 'arrival'}`;
  if (state.stateFilter === 'rejected') {
    return (
      <Box flexDirection="column" paddingX={1}>
        <Text bold>Rejected files ({rejectedCount})</Text>
        {rejected.slice(0, visible).map((f) => (
          <Text key={f.path} wrap="truncate-end">
            {visibleText(f.path)} — {f.code}: {visibleText(f.reason ?? '')}
          </Text>
        ))}
        {rejectedCount > visible ? <Text dimColor>… and {rejectedCount - visible} more: `slidetriage status` lists them all</Text> : null}
        <KeyHints context="queue" only={['filter-state']} />
      </Box>
    );
  }
  if (!order.length && !loaded) {
    return (
      <Box flexDirection="column" paddingX={1}>
        <Text bold>{title}</Text>
        <Text dimColor>Reading the store…</Text>
      </Box>
    );
  }
  if (!order.length) {
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
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold wrap="truncate-end">
        {title} — {order.length} slide(s)
      </Text>
      <Text dimColor wrap="truncate-end">
        {'  '}
        {'state'.padEnd(10)} {'predicted'.padEnd(10)} {'conf.'.padStart(6)} {'margin'.padStart(6)} {'label'.padEnd(8)} file
      </Text>
      {shown.map((r, i) => {
        const selected = start + i === cursor;
        // A row not fetched yet (a page away, a moment ago): its place is kept.
        if (!r) return <Text key={order[start + i] ?? `row-${start + i}`}>{selected ? '› ' : '  '}…</Text>;
        return (
          <Text key={r.sha256} inverse={selected} wrap="truncate-end">
            {selected ? '› ' : '  '}
            {r.state.padEnd(10)} {visibleText(r.unusual ? `⚠${r.predicted ?? ''}` : (r.predicted ?? '…')).padEnd(10)} {pct(r.confidence)} {pct(r.margin)} {visibleText(r.label ?? '').padEnd(8)}{' '}
            {visibleText(r.path)}
            {r.openBy ? ` (open: ${r.openBy})` : ''}
          </Text>
        );
      })}
      {unusual ? <Text color="red">⚠ unlike the model&apos;s training images: its confidence means little there — check by eye</Text> : null}
      <KeyHints context="queue" only={['up', 'down', 'open', 'sort', 'filter-state', 'filter-label']} />
    </Box>
  );
}

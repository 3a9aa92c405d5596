import React from 'react';
import { Box, Text } from 'ink';
import type { Metrics } from '../engine/metrics.js';
import type { RetrainState } from '../state/retrain.js';
import type { VersionInfo } from '../engine/versions.js';
import { useStore } from '../contexts/StoreContext.js';
import { KeyHints } from '../components/KeyHints.js';
import { visible } from '../core/safe-text.js';
import { AdaptedLines } from './AdaptedLines.js';

const BLOCKS = '▁▂▃▄▅▆▇█';

/** The loss curve as one line of block characters. */
export function sparkline(values: number[], width = 40): string {
  const v = values.slice(-width);
  if (!v.length) return '';
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return v.map((x) => BLOCKS[hi > lo ? Math.round(((x - lo) / (hi - lo)) * 7) : 0]).join('');
}

const pct = (m: Metrics | null | undefined) => (m ? `${(m.accuracy * 100).toFixed(1)}%` : '–');

/** Rows the rest of the screen can take at most (title, counts, mode, job, result table, question, hints). */
const FIXED_ROWS = 14;

/** What a version row says after its id and kind: a retrain's labels and held-out figures, an adapted version's parent. */
function versionNote(v: VersionInfo): string {
  if (v.kind === 'default' || v.kind === 'shipped') return '';
  if (v.kind === 'adapted') return `from ${visible(v.parent ?? '?')}`;
  return `${v.labels} labels · held-out ${pct(v.heldOut?.current)} → ${pct(v.heldOut?.candidate)}`;
}

/** The slice of the version list shown: all where they fit, else a window that keeps the selected one in view. */
export function versionWindow(count: number, selected: number, height: number): { start: number; end: number } {
  const fit = Math.max(3, height - FIXED_ROWS);
  if (count <= fit) return { start: 0, end: count };
  const start = Math.min(Math.max(0, selected - Math.floor(fit / 2)), count - fit);
  return { start, end: start + fit };
}

export function RetrainScreen({ state, modelId, height = 24 }: { state: RetrainState; modelId: string | null; height?: number }) {
  const { summary } = useStore();
  const r = state.result;
  const shown = versionWindow(state.versions.length, state.selected, height);
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold>Retrain from the confirmed labels</Text>
      <Text>
        {summary.labelled} confirmed label(s):{' '}
        {Object.entries(summary.byLabel)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none yet'}{' '}
        · current model {modelId ?? 'none'}
      </Text>
      <Text>
        mode <Text bold>{state.mode === 'head' ? 'head only (cached backbone features, fast)' : 'every layer (slow)'}</Text> · a quarter of each class is held out to compare the models
      </Text>
      {state.job && (
        <Box flexDirection="column">
          <Text color="cyan">
            {state.job.message} ({Math.round((100 * state.job.done) / Math.max(1, state.job.total))}%) · Esc cancels
          </Text>
          {state.curve.length ? (
            <Text>
              loss {sparkline(state.curve)} {state.curve.at(-1)!.toFixed(4)}
            </Text>
          ) : null}
        </Box>
      )}
      {r && !state.job && (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>
            {visible(r.id)}: {r.trainedOn} training images, {r.seconds.toFixed(0)} s {state.curve.length ? `· loss ${sparkline(state.curve)}` : ''}
          </Text>
          <Text>
            {'yardstick'.padEnd(28)}
            {'images'.padStart(7)}
            {'current'.padStart(10)}
            {'new'.padStart(10)}
          </Text>
          {[
            ['held-out confirmed labels', r.heldOut],
            ['base test part', r.base],
          ].map(([name, c]) => {
            const cmp = c as typeof r.heldOut;
            return (
              <Text key={name as string}>
                {(name as string).padEnd(28)}
                {String(cmp.n).padStart(7)}
                {pct(cmp.current).padStart(10)}
                {pct(cmp.candidate).padStart(10)} <Text dimColor>{visible(cmp.note ?? '')}</Text>
              </Text>
            );
          })}
        </Box>
      )}
      {state.adapted && !state.job && <AdaptedLines result={state.adapted} />}
      <Box flexDirection="column" marginTop={1}>
        <Text bold>Model versions{shown.end - shown.start < state.versions.length ? ` (${shown.start + 1}–${shown.end} of ${state.versions.length}, ↑↓ to see more)` : ''}</Text>
        {state.versions.slice(shown.start, shown.end).map((v, j) => (
          <Text key={v.dir} inverse={shown.start + j === state.selected} wrap="truncate-end">
            {v.current ? '* ' : '  '}
            {visible(v.id).padEnd(38)} {v.kind.padEnd(8)} {versionNote(v)}
          </Text>
        ))}
      </Box>
      {state.confirm && (
        <Text color="yellow" bold>
          Make {state.confirm.id} the current model? y = yes, Esc = no
        </Text>
      )}
      {state.message && <Text color="green">{state.message}</Text>}
      <KeyHints context="retrain" />
    </Box>
  );
}

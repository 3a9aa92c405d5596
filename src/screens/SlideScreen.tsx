// One slide: the image and its explanation maps, the per-class probabilities, and the decision keys.
import React from 'react';
import { Box, Text } from 'ink';
import { ProgressBar } from '@inkjs/ui';
import type { SlideRow } from '../queue/rows.js';
import type { Decision, Prediction } from '../store/schema.js';
import type { TriageState } from '../state/triage.js';
import { ProbabilityBars } from '../components/ProbabilityBars.js';
import { KeyHints } from '../components/KeyHints.js';
import { SlideMaps } from './SlideMaps.js';
import { EvidenceCrops } from './EvidenceCrops.js';
import type { EvidenceCell } from '../core/evidence.js';
import { visible } from '../core/safe-text.js';

export interface ExplainJob {
  sha256: string;
  done: number;
  total: number;
  method: string;
}

export function SlideScreen(props: {
  row: SlideRow;
  /** The row in the list; null for a slide kept on the screen after it left the list. */
  index: number | null;
  count: number;
  classes: string[];
  prediction: Prediction | null;
  decisions: Decision[];
  storeDir: string;
  state: TriageState;
  width: number;
  height: number;
  job: ExplainJob | null;
  /** The file of the slide a kept note was written on, when that is not this slide. */
  noteWaitsOn?: string | null;
  /** The model's input side, for the layer under each map. */
  inputSize?: number | null;
  /** The cells under the default map (the evidence file's). */
  cells?: EvidenceCell[];
}) {
  const { row, prediction, state, classes } = props;
  const last = props.decisions.at(-1);
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold wrap="truncate-end">
        Slide {props.index === null ? '–' : props.index + 1}/{props.count} — {visible(row.path)} <Text dimColor>sha256 {row.sha256.slice(0, 12)}</Text>
      </Text>
      <Box>
        <SlideMaps prediction={prediction} storeDir={props.storeDir} state={state} width={props.width} height={props.height} inputSize={props.inputSize ?? null} />
        <Box flexDirection="column" marginLeft={1} width={40}>
          {prediction ? (
            <>
              <Text>
                Predicted <Text bold>{prediction.label}</Text> by {prediction.modelId}
              </Text>
              <ProbabilityBars classes={classes} probabilities={prediction.probabilities} predicted={prediction.label} width={14} />
              <Text wrap="truncate-end">
                margin {(row.margin! * 100).toFixed(1)} points{row.margin! < 0.2 ? ' — look closely' : ''}
              </Text>
              {prediction.ood?.unusual ? (
                <Text color="red" wrap="wrap">
                  ⚠ Unlike the training images (distance {prediction.ood.distance.toFixed(2)}, limit {prediction.ood.threshold.toFixed(2)}): the model may be wrong however sure it looks. Check by eye.
                </Text>
              ) : null}
            </>
          ) : (
            <Text color="yellow">Waiting for a prediction…</Text>
          )}
          <Text> </Text>
          <Text>
            Label: <Text bold>{row.label ?? 'none yet'}</Text>
            {last ? (
              <Text dimColor>
                {' '}
                ({last.action} by {last.technician}, {last.at.slice(0, 16).replace('T', ' ')})
              </Text>
            ) : null}
          </Text>
          {props.job && props.job.sha256 === row.sha256 ? (
            <Box flexDirection="column">
              <Text>
                explaining: {props.job.method} {Math.round((props.job.done / props.job.total) * 100)}% <Text dimColor>(Esc cancels)</Text>
              </Text>
              <ProgressBar value={Math.round((props.job.done / props.job.total) * 100)} />
            </Box>
          ) : null}
          {state.noteMode ? (
            <Box>
              <Text>Note: </Text>
              {state.note ? <Text>{visible(state.note)}</Text> : <Text dimColor>type, then Enter</Text>}
              <Text inverse> </Text>
            </Box>
          ) : state.note && state.noteSha === row.sha256 ? (
            <Text wrap="truncate-end">Note: {visible(state.note)}</Text>
          ) : state.note && props.noteWaitsOn ? (
            <Text dimColor wrap="truncate-end">
              note waiting on {visible(props.noteWaitsOn)}
            </Text>
          ) : null}
          <EvidenceCrops cells={props.cells ?? []} selected={state.cell} storeDir={props.storeDir} rows={Math.min(12, props.height - 24)} />
          {row.openBy ? <Text color="yellow">{row.openBy} has this slide open too: the last decision made is its label</Text> : null}
          {state.message ? <Text color={state.message.startsWith('⧗') ? 'yellow' : 'green'}>{state.message}</Text> : null}
        </Box>
      </Box>
      <KeyHints
        context={state.noteMode ? 'note' : 'slide'}
        only={state.noteMode ? undefined : ['confirm', 'set-class', 'note', 'undo', 'skip', 'previous', 'next', 'next-cell', 'explain-more', 'zoom', 'layout', 'back']}
      />
    </Box>
  );
}

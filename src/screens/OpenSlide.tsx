// The slide screen, its zoom, or the line that says the list is done: what `Enter` on the queue opens.
import React from 'react';
import { Box, Text } from 'ink';
import type { SlideRow } from '../queue/rows.js';
import type { Decision, Prediction } from '../store/schema.js';
import type { TriageState } from '../state/triage.js';
import type { RgbPixels } from '../components/picture.js';
import { SlideScreen, type ExplainJob } from './SlideScreen.js';
import { ZoomScreen } from './ZoomScreen.js';

export interface OpenSlideProps {
  row: SlideRow | undefined;
  /** The row's place in the list, or null when it left the list (decided meanwhile by someone else). */
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
  noteWaitsOn: string | null;
  inputSize: number | null;
  original: Promise<RgbPixels | null> | null;
}

export function OpenSlide(p: OpenSlideProps) {
  const { row, state } = p;
  if (!row) {
    return (
      <Box flexDirection="column" paddingX={1}>
        {state.message ? <Text color="green">{state.message}</Text> : null}
        <Text>All slides in this list are done. Press g for the queue.</Text>
      </Box>
    );
  }
  if (state.zoom !== null) {
    return (
      <ZoomScreen
        original={p.original}
        row={row}
        prediction={p.prediction}
        storeDir={p.storeDir}
        mapIndex={state.enlarged}
        opacity={state.zoom}
        width={p.width}
        height={p.height}
        inputSize={p.inputSize}
      />
    );
  }
  return (
    <SlideScreen
      row={row}
      index={p.index}
      count={p.count}
      classes={p.classes}
      prediction={p.prediction}
      decisions={p.decisions}
      storeDir={p.storeDir}
      state={state}
      width={p.width}
      height={p.height}
      job={p.job}
      noteWaitsOn={p.noteWaitsOn}
      inputSize={p.inputSize}
    />
  );
}

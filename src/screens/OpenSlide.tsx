// The slide screen, its zoom, or the line that says the list is done: what `Enter` on the queue opens.
import React, { useMemo } from 'react';
import { Box, Text } from 'ink';
import type { SlideRow } from '../queue/rows.js';
import type { RgbPixels } from '../components/picture.js';
import { SlideScreen } from './SlideScreen.js';
import { ZoomScreen } from './ZoomScreen.js';
import { useEvidence } from './EvidenceCrops.js';
import { drawBoxes } from '../core/evidence-pixels.js';

/** The slide screen's props, with the row absent when the list is done, and the zoom's original pixels. */
export type OpenSlideProps = Omit<Parameters<typeof SlideScreen>[0], 'row' | 'cells'> & {
  row: SlideRow | undefined;
  inputSize: number | null;
  original: Promise<RgbPixels | null> | null;
};

export function OpenSlide(p: OpenSlideProps) {
  const { row, state } = p;
  const cells = useEvidence(p.storeDir, p.prediction);
  // The zoom's field with the cells' boxes drawn on it, in the colours of the crops' list.
  const original = useMemo(() => p.original?.then((img) => (img && cells.length ? drawBoxes(img, cells) : img)) ?? null, [p.original, cells]);
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
        original={original}
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
      cells={cells}
    />
  );
}

// The slide's pictures: one map as large as the space beside the probabilities allows (the default map
// first, Tab for the next) with the others as thumbnails beside it, or all side by side (v); with a line that
// says what the large (or first) map shows, as measured (core/explanation-methods.ts).
import React from 'react';
import path from 'node:path';
import { Box, Text } from 'ink';
import type { Prediction } from '../store/schema.js';
import type { TriageState } from '../state/triage.js';
import { colourAvailable, TerminalImage } from '../components/TerminalImage.js';
import { methodShows } from '../core/explanation-methods.js';
import { mapCaption, mapShortCaption, mapTitle, MAP_ORDER } from './maps.js';
import { slideMapsLayout, type MapsLayout } from './slide-maps-layout.js';

type MapsProps = { prediction: Prediction | null; storeDir: string; state: TriageState; width: number; height: number; inputSize: number | null };

export function SlideMaps(props: MapsProps) {
  const { prediction } = props;
  const maps = MAP_ORDER.filter((m) => prediction?.explanations[m]);
  const fileOf = (m: string) => (prediction?.explanations[m] ? path.join(props.storeDir, prediction.explanations[m]) : null);
  if (!colourAvailable()) {
    return (
      <Box flexDirection="column" width={Math.max(20, props.width - 44)}>
        <Text>Maps are not drawn without colour. As PNG files:</Text>
        {maps.map((m) => (
          <Text key={m} wrap="truncate-middle">
            {mapTitle(m)}: {fileOf(m)}
          </Text>
        ))}
      </Box>
    );
  }
  const layout = slideMapsLayout(maps, props.state, props.width, props.height);
  const explained = layout.kind === 'large' ? (layout.large !== 'image' ? layout.large : undefined) : maps.find((m) => m !== 'image');
  return (
    <Box flexDirection="column" width={layout.width}>
      {layout.kind === 'large' ? (
        <LargeWithThumbnails layout={layout} fileOf={fileOf} inputSize={props.inputSize} count={maps.length} />
      ) : (
        <Row layout={layout} fileOf={fileOf} inputSize={props.inputSize} />
      )}
      {explained ? (
        <Text dimColor wrap="wrap">
          {methodShows(explained)}
        </Text>
      ) : null}
    </Box>
  );
}

type Part<K extends MapsLayout['kind']> = { layout: Extract<MapsLayout, { kind: K }>; fileOf: (m: string) => string | null; inputSize: number | null };

function LargeWithThumbnails({ layout, fileOf, inputSize, count }: Part<'large'> & { count: number }) {
  const tab = count > 1 ? ` (${layout.position + 1}/${count}, Tab)` : '';
  // The full caption where it fits, else the short one: never cut mid-word.
  const captions = [`${mapCaption(layout.large, inputSize)}${tab}`, `${mapShortCaption(layout.large, inputSize)}${tab}`, mapShortCaption(layout.large, inputSize)];
  const caption = captions.find((c) => c.length <= layout.largeCols) ?? captions[2];
  return (
    <Box flexDirection="row">
      <TerminalImage file={fileOf(layout.large)} width={layout.largeCols} height={layout.largeRows} caption={caption} />
      <Box flexDirection="column" marginLeft={1}>
        {layout.thumbnails.map((m) => (
          <TerminalImage key={m} file={fileOf(m)} width={layout.thumbCols} height={layout.thumbRows} caption={mapShortCaption(m, inputSize)} />
        ))}
      </Box>
    </Box>
  );
}

function Row({ layout, fileOf, inputSize }: Part<'side-by-side'>) {
  return (
    <Box flexDirection="row">
      {layout.maps.map((m) => (
        <TerminalImage key={m} file={fileOf(m)} width={layout.cols} height={layout.rows} caption={mapShortCaption(m, inputSize)} />
      ))}
    </Box>
  );
}

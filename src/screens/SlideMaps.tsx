// The slide's pictures: the image and its maps side by side, or one enlarged (Tab for the next), with a line
// that says what the first (or enlarged) map shows, as measured (core/explanation-methods.ts).
import React from 'react';
import path from 'node:path';
import { Box, Text } from 'ink';
import type { Prediction } from '../store/schema.js';
import type { TriageState } from '../state/triage.js';
import { colourAvailable, TerminalImage } from '../components/TerminalImage.js';
import { methodShows } from '../core/explanation-methods.js';
import { mapCaption, mapShortCaption, mapTitle, MAP_ORDER } from './maps.js';

export function SlideMaps(props: { prediction: Prediction | null; storeDir: string; state: TriageState; width: number; height: number; inputSize: number | null }) {
  const { prediction, state } = props;
  const maps = MAP_ORDER.filter((m) => prediction?.explanations[m]);
  const fileOf = (m: string) => (prediction?.explanations[m] ? path.join(props.storeDir, prediction.explanations[m]) : null);
  // Leave room for the text column (≥ 38 columns), the status lines and the line on what the map shows.
  const imageRows = Math.max(6, props.height - 11);
  const available = Math.max(20, props.width - 42);
  // Side by side only while every map gets at least 12 columns; otherwise one map, Tab for the next.
  const fits = Math.floor(available / 13) >= maps.length;
  const side = state.layout === 'enlarged' || maps.length <= 1 || !fits;
  const mapWidth = side ? Math.min(available, imageRows * 2) : Math.floor(available / Math.max(1, maps.length)) - 1;
  const shown = side ? [maps[state.enlarged % Math.max(1, maps.length)] ?? 'image'] : maps;
  const explained = shown.find((m) => m !== 'image');
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
  return (
    <Box flexDirection="column" width={side ? mapWidth : available}>
      <Box flexDirection="row">
        {shown.map((m) => (
          <TerminalImage
            key={m}
            file={fileOf(m)}
            width={mapWidth}
            height={side ? imageRows : Math.min(imageRows, Math.ceil(mapWidth / 2))}
            caption={side ? `${mapCaption(m, props.inputSize)}${maps.length > 1 ? ` (${(state.enlarged % maps.length) + 1}/${maps.length}, Tab)` : ''}` : mapShortCaption(m, props.inputSize)}
          />
        ))}
      </Box>
      {explained ? (
        <Text dimColor wrap="wrap">
          {methodShows(explained)}
        </Text>
      ) : null}
    </Box>
  );
}

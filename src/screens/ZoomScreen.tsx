// The slide as large as the terminal allows, one map over it at a time: Tab steps through the maps, m
// takes the map off and puts it back, + and − change its opacity.
import React from 'react';
import path from 'node:path';
import { Box, Text } from 'ink';
import type { SlideRow } from '../queue/rows.js';
import type { Prediction } from '../store/schema.js';
import { BlendedImage } from '../components/BlendedImage.js';
import type { RgbPixels } from '../components/picture.js';
import { KeyHints } from '../components/KeyHints.js';
import { colourAvailable } from '../components/TerminalImage.js';
import { mapCaption, MAP_ORDER } from './maps.js';
import { methodShows } from '../core/explanation-methods.js';
import { useGraphics } from '../contexts/GraphicsContext.js';
import { visible } from '../core/safe-text.js';

const PROTOCOL_NAMES = { kitty: 'kitty graphics', iterm: 'iTerm2 inline images', sixel: 'sixel', blocks: 'half-blocks' } as const;

export function ZoomScreen(props: {
  original: Promise<RgbPixels | null> | null;
  row: SlideRow;
  prediction: Prediction | null;
  storeDir: string;
  mapIndex: number;
  opacity: number;
  width: number;
  height: number;
  inputSize: number | null;
}) {
  const { prediction } = props;
  const { graphics } = useGraphics();
  const fileOf = (m: string) => (prediction?.explanations[m] ? path.join(props.storeDir, prediction.explanations[m]) : null);
  const maps = MAP_ORDER.filter((m) => m !== 'image' && prediction?.explanations[m]);
  const map = maps.length ? maps[props.mapIndex % maps.length] : null;
  const caption = map ? `${mapCaption(map, props.inputSize)} (${(props.mapIndex % maps.length) + 1}/${maps.length}, Tab) · opacity ${Math.round(props.opacity * 100)}%` : 'no map computed yet';
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold wrap="truncate-end">
        Zoom — {visible(props.row.path)} — {caption}
      </Text>
      {colourAvailable() ? (
        <BlendedImage original={props.original} base={fileOf('image')} overlay={map ? fileOf(map) : null} opacity={props.opacity} columns={props.width - 2} rows={props.height - 5} />
      ) : (
        <Text>Images are not drawn without colour: {fileOf('image') ?? 'none yet'}</Text>
      )}
      <Text dimColor wrap="truncate-end">
        {map ? methodShows(map) : ' '}
      </Text>
      <Text dimColor wrap="truncate-end">
        drawn with {PROTOCOL_NAMES[graphics.protocol]}: {graphics.reason}
      </Text>
      <KeyHints context="zoom" />
    </Box>
  );
}

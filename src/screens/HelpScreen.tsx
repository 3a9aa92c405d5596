// Every key, generated from the one keymap.
import React from 'react';
import { Box, Text } from 'ink';
import { KEYMAP, type Context } from '../keymap.js';

const TITLES: Record<Context, string> = { global: 'Everywhere', queue: 'Queue', slide: 'Slide', note: 'Writing a note', retrain: 'Retrain and model versions', benchmarks: 'Benchmarks' };

export function HelpScreen() {
  const contexts: Context[] = ['global', 'queue', 'slide', 'note', 'retrain', 'benchmarks'];
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold>Keys (? closes)</Text>
      {contexts.map((c) => (
        <Box key={c} flexDirection="column" marginTop={1}>
          <Text underline>{TITLES[c]}</Text>
          {KEYMAP.filter((k) => k.context === c).map((k) => (
            <Text key={`${c}-${k.action}`}>
              <Text bold>{k.label.padEnd(7)}</Text>
              {k.description}
            </Text>
          ))}
        </Box>
      ))}
    </Box>
  );
}

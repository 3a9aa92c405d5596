// Per-class probabilities as bars, with the numbers always written out (readable without colour).
import React from 'react';
import { Box, Text } from 'ink';
import { visible } from '../core/safe-text.js';

export function ProbabilityBars({ classes, probabilities, width = 20, predicted }: { classes: string[]; probabilities: Record<string, number>; width?: number; predicted: string | null }) {
  const nameWidth = Math.max(...classes.map((c) => visible(c).length));
  return (
    <Box flexDirection="column">
      {classes.map((c, i) => {
        const p = probabilities[c] ?? 0;
        const filled = Math.round(p * width);
        return (
          <Text key={c} bold={c === predicted}>
            {`${i + 1} ${visible(c).padEnd(nameWidth)} `}
            <Text color={c === predicted ? 'cyan' : undefined}>{'█'.repeat(filled)}</Text>
            <Text dimColor>{'·'.repeat(width - filled)}</Text>
            {` ${(p * 100).toFixed(1).padStart(5)}%`}
          </Text>
        );
      })}
    </Box>
  );
}

// The first screen: what the app watches and which model it runs. The queue and slide screens replace
// it as they land.
import React from 'react';
import { Box, Text } from 'ink';
import { useEngine } from '../contexts/EngineContext.js';
import { KEYMAP } from '../keymap.js';

export function HomeScreen({ incoming, imageCount, showHelp }: { incoming: string; imageCount: number | null; showHelp: boolean }) {
  const engine = useEngine();
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold>slidetriage</Text>
      <Text>
        Watching <Text bold>{incoming}</Text>: {imageCount === null ? 'scanning…' : `${imageCount} image file(s) present`}
      </Text>
      {engine.status === 'starting' && <Text>Starting the engine…</Text>}
      {engine.status === 'ready' && engine.model && (
        <Text>
          Model <Text bold>{engine.model.id}</Text> — EfficientNet-{engine.model.variant.toUpperCase()}, {engine.model.inputSize} px, classes{' '}
          {engine.model.classes.join(', ')}
        </Text>
      )}
      {engine.status === 'no-model' && (
        <Text color="yellow">No model could be loaded: {engine.error}. Train one with `slidetriage train`, or start with --model DIR.</Text>
      )}
      {engine.status === 'failed' && <Text color="red">The engine could not start: {engine.error}</Text>}
      <Text dimColor>The review queue is not built yet; use `slidetriage predict` for headless classification.</Text>
      {showHelp && (
        <Box flexDirection="column" marginTop={1}>
          {KEYMAP.map((k) => (
            <Text key={k.key}>
              <Text bold>{k.key.padEnd(4)}</Text>
              {k.description}
            </Text>
          ))}
        </Box>
      )}
      {!showHelp && <Text dimColor>? keys · q quit</Text>}
    </Box>
  );
}

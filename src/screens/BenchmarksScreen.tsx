import React from 'react';
import { Box, Text } from 'ink';
import { useEngine } from '../contexts/EngineContext.js';

/** The comparison tables are their own issue; until they land this shows the model's own figures. */
export function BenchmarksScreen() {
  const { model } = useEngine();
  const headline = (model?.metrics as { headline?: string; test?: { metrics?: { accuracy?: number } }; val?: { metrics?: { accuracy?: number } } } | null) ?? null;
  const part = headline?.headline === 'test' ? headline.test : headline?.val;
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold>Benchmarks</Text>
      {model ? (
        <Text>
          {model.id}: {part?.metrics?.accuracy !== undefined ? `held-out accuracy ${(part.metrics.accuracy * 100).toFixed(2)}% (${headline?.headline} part)` : 'no held-out figures in its manifest'}
        </Text>
      ) : (
        <Text>No model loaded.</Text>
      )}
      <Text color="yellow">The comparison with VGG-19, ResNet50, InceptionResNetV2, DenseNet-121 and AlexNet is not built yet.</Text>
      <Text dimColor>g queue · ? keys · q quit</Text>
    </Box>
  );
}

import React from 'react';
import { Box, Text } from 'ink';
import { useEngine } from '../contexts/EngineContext.js';
import { useStore } from '../contexts/StoreContext.js';

export function StatusBar({ technician }: { technician: string }) {
  const engine = useEngine();
  const { summary, watcher, predicting } = useStore();
  const backend = engine.backend ? engine.backend.backend : '…';
  const model = engine.model ? engine.model.id : engine.status === 'starting' ? 'loading…' : 'none';
  return (
    <Box borderStyle="single" borderTop borderBottom={false} borderLeft={false} borderRight={false} paddingX={1}>
      <Text wrap="truncate-end">
        {technician} · {backend} · {model} · {summary.unlabelled} to review · {summary.labelled} labelled · {summary.files.rejected} rejected · {summary.files.duplicate} duplicate · watcher {watcher}
        {predicting ? ' · classifying…' : ''}
      </Text>
    </Box>
  );
}

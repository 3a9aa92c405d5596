import React from 'react';
import { Box, Text } from 'ink';
import { useEngine } from '../contexts/EngineContext.js';

export function StatusBar({ technician, incoming }: { technician: string; incoming: string }) {
  const engine = useEngine();
  const backend = engine.backend ? engine.backend.backend : '…';
  const model = engine.model ? engine.model.id : engine.status === 'starting' ? 'loading…' : 'none';
  return (
    <Box borderStyle="single" borderTop borderBottom={false} borderLeft={false} borderRight={false} paddingX={1}>
      <Text wrap="truncate-end">
        {technician} · backend {backend} · model {model} · watching {incoming}
      </Text>
    </Box>
  );
}

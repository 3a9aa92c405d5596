import React from 'react';
import { Box, Text } from 'ink';
import { useStore } from '../contexts/StoreContext.js';

/** Retraining from the technicians' labels is its own issue; until it lands this says what exists. */
export function RetrainScreen() {
  const { summary } = useStore();
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold>Retrain</Text>
      <Text>{summary.labelled} confirmed label(s) in the store: {Object.entries(summary.byLabel).map(([k, v]) => `${k} ${v}`).join(', ') || 'none yet'}.</Text>
      <Text color="yellow">Retraining from this screen is not built yet (model versions, comparison, promote and rollback).</Text>
      <Text>Until then: `slidetriage export --format folders --out DIR`, then `slidetriage train --data DIR --out BUNDLE --init models/default`.</Text>
      <Text dimColor>g queue · ? keys · q quit</Text>
    </Box>
  );
}

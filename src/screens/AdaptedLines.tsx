// The Retrain screen's word on the last adapt: the lab's slides it was not fitted on, as the current and
// the adapted model see them (no labels: how many are flagged, how many called malignant).
import React from 'react';
import { Box, Text } from 'ink';
import type { AdaptResult, LabView } from '../engine/adapt/types.js';
import { visible } from '../core/safe-text.js';

const share = (k: number | null, n: number) => (k === null || !n ? '–' : `${k}/${n} (${Math.round((k / n) * 100)}%)`);

function row(name: string, v: LabView) {
  return `${name.padEnd(20)}${share(v.flagged, v.n).padStart(16)}${share(v.calledMalignant, v.n).padStart(18)}`;
}

export function AdaptedLines({ result: r }: { result: AdaptResult }) {
  const colour = r.colour.applied ? 'colour aligned to the training images' : `colour left as it is: ${r.colour.note}`;
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold wrap="truncate-end">
        {visible(r.id)}: adapted on {r.slides.fitted} of the lab’s slides, {r.seconds.toFixed(0)} s · {visible(colour)}
      </Text>
      <Text>
        {`on ${r.slides.checked} other slides`.padEnd(20)}
        {'flagged unusual'.padStart(16)}
        {'called malignant'.padStart(18)}
      </Text>
      <Text>{row('current', r.before)}</Text>
      <Text>{row('adapted', r.after)}</Text>
      {r.warning ? <Text color="yellow">⚠ {visible(r.warning)}</Text> : null}
    </Box>
  );
}

// The cells the default map means, as CellaVision shows each cell: the one selected (c for the next) cut from
// the slide at its own resolution, 2×, and the list of them with each one's share of the map's relevance.
// The zoom draws their boxes on the field in the same colours.
import React, { useEffect, useState } from 'react';
import path from 'node:path';
import { Box, Text } from 'ink';
import type { Prediction } from '../store/schema.js';
import type { EvidenceCell } from '../core/evidence.js';
import { BOX_COLOURS } from '../core/evidence-pixels.js';
import { readEvidence } from '../app/explanation-files.js';
import { TerminalImage } from '../components/TerminalImage.js';

const percent = (share: number) => `${Math.round(share * 100)}%`;
const hex = ([r, g, b]: [number, number, number]) => `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** The cells of a prediction's evidence file, read once per prediction. */
export function useEvidence(storeDir: string, prediction: Prediction | null): EvidenceCell[] {
  const [read, setRead] = useState<{ of: Prediction | null; cells: EvidenceCell[] }>({ of: null, cells: [] });
  useEffect(() => {
    let live = true;
    void readEvidence(storeDir, prediction).then((cells) => live && setRead({ of: prediction, cells }));
    return () => {
      live = false;
    };
  }, [storeDir, prediction]);
  return read.of === prediction ? read.cells : [];
}

export function EvidenceCrops({ cells, selected, storeDir, rows }: { cells: EvidenceCell[]; selected: number; storeDir: string; rows: number }) {
  if (!cells.length || rows < 4) return null;
  const i = selected % cells.length;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        Cells{cells.length > 1 ? ' (c)' : ''}:{' '}
        {cells.map((c, k) => (
          <Text key={k} color={hex(BOX_COLOURS[k % BOX_COLOURS.length])} bold={k === i}>
            {k === i ? '▸' : ' '}
            {k + 1} {percent(c.share)}{' '}
          </Text>
        ))}
      </Text>
      <TerminalImage file={path.join(storeDir, cells[i].crop)} width={rows * 2} height={rows} caption={`cell ${i + 1} · ${percent(cells[i].share)} · 2×`} />
    </Box>
  );
}

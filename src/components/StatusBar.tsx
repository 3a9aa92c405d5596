import React from 'react';
import { Box, Text } from 'ink';
import { useEngine } from '../contexts/EngineContext.js';
import { useStore } from '../contexts/StoreContext.js';
import { visible } from '../core/safe-text.js';
import { adaptHint } from '../state/lab-drift.js';
import { fitItems } from '../core/fit-items.js';

/** The model's held-out accuracy from its manifest, so that nobody mistakes a weak model for a good one. */
function heldOutAccuracy(metrics: Record<string, unknown> | null): string {
  type Part = { metrics?: { accuracy?: number }; tta?: { accuracy?: number } };
  const m = metrics as { headline?: 'test' | 'val'; test?: Part; val?: Part } | null;
  const part = m?.headline ? m[m.headline] : undefined;
  const acc = part?.metrics?.accuracy;
  const tta = part?.tta?.accuracy;
  if (acc === undefined) return ' (no held-out figures)';
  return ` (${m!.headline} acc ${(acc * 100).toFixed(1)}%${tta === undefined ? '' : `, 8-view ${(tta * 100).toFixed(1)}%`})`;
}

/** How far the model has got through the slides to review: after a promote, every one is scored again. */
function scoringProgress(scored: number, toReview: number): string {
  return `classifying ${Math.min(scored, toReview).toLocaleString('en')}/${toReview.toLocaleString('en')}`;
}

/** Terminals at least this wide get the status on one line; narrower ones on two, so that the counts
 *  and the model's held-out accuracy are never the part cut off. */
export const ONE_LINE_WIDTH = 150;

/** Rows the status bar takes (its rule, then one or two lines). */
export function statusBarRows(width: number): number {
  return width >= ONE_LINE_WIDTH ? 2 : 3;
}

export function StatusBar({ technician, width = ONE_LINE_WIDTH }: { technician: string; width?: number }) {
  const engine = useEngine();
  const { summary, watcher, predicting, newSlides } = useStore();
  // Forward passes on ONNX Runtime when it is in use, gradients and training on the tfjs backend.
  const tfjs = engine.backend ? engine.backend.backend : '…';
  const backend = engine.model?.runtime.startsWith('onnxruntime') ? `${engine.model.runtime.replace('onnxruntime-', 'ORT ')} + ${tfjs}` : tfjs;
  const model = engine.model ? `${engine.model.id}${heldOutAccuracy(engine.model.metrics)}` : engine.status === 'starting' ? 'loading…' : 'none';
  // The work first: what is left, and whether the folder is watched; then the model and who and where.
  const hint = adaptHint(newSlides);
  const work = [
    ...(hint ? [hint] : []),
    `${summary.unlabelled} to review`,
    `${summary.labelled} labelled`,
    `${summary.files.rejected} rejected`,
    `${summary.files.duplicate} duplicate`,
    `watcher ${watcher}`,
    ...(predicting ? [scoringProgress(summary.toReviewScoredBy[engine.model?.id ?? ''] ?? 0, summary.unlabelled)] : []),
  ];
  const who = [model, technician, backend].map(visible);
  const line = width - 2; // the bar's padding
  return (
    <Box borderStyle="single" borderTop borderBottom={false} borderLeft={false} borderRight={false} paddingX={1} flexDirection="column">
      {width >= ONE_LINE_WIDTH ? (
        <Text wrap="truncate-end">{fitItems([...work, ...who], line)}</Text>
      ) : (
        <>
          <Text wrap="truncate-end">{fitItems(work, line)}</Text>
          <Text wrap="truncate-end">{fitItems(who, line)}</Text>
        </>
      )}
    </Box>
  );
}

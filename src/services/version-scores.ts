// Every saved model version scored on the store's confirmed labels: `slidetriage models evaluate` and the
// Benchmarks screen.
import type { Config } from '../config.js';
import { storeFolder } from '../config.js';
import type { EngineClient } from '../engine/client.js';
import type { VersionEvaluation } from '../engine/retrain/evaluate-versions.js';
import type { VersionInfo } from '../engine/versions.js';
import { confirmedLabels, verifyLabelFiles } from '../store/labels.js';
import { slideCopiesDir } from '../store/slide-copies.js';
import type { SlideStore } from '../store/types.js';

export function evaluationLines(rows: Array<{ version: VersionInfo; result: VersionEvaluation | null; error?: string }>): string[] {
  const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`);
  return [
    '| version | kind | labels scored | accuracy | macro F1 | AUC | skipped |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(({ version: v, result: r, error }) =>
      r
        ? `| ${v.current ? '* ' : ''}${v.id} | ${v.kind} | ${r.n} | ${f(r.metrics?.accuracy)} | ${f(r.metrics?.macro.f1)} | ${f(r.metrics ? (r.metrics.binary?.auc ?? r.metrics.macro.auc) : undefined)} | ${r.skipped} |`
        : `| ${v.id} | ${v.kind} | – | – | – | – | ${error ?? ''} |`,
    ),
  ];
}

/** Every saved version scored on the store's confirmed labels (labels a version may have trained on count too: see the held-out figures of retrain.json for unseen ones). */
export async function evaluateVersions(engine: EngineClient, config: Config, versions: VersionInfo[], store: SlideStore) {
  // Only labels whose image is still the one labelled are scored.
  const { verified } = await verifyLabelFiles(confirmedLabels(await store.labelledSlides(), config.incoming, slideCopiesDir(storeFolder(config))));
  const items = verified.map((l) => ({ file: l.file, label: l.label }));
  const rows: Array<{ version: VersionInfo; result: VersionEvaluation | null; error?: string }> = [];
  for (const version of versions) {
    try {
      rows.push({ version, result: await engine.call('evaluateVersion', { modelDir: version.dir, items, extensions: config.images.extensions, maxPixels: config.images.maxPixels }) });
    } catch (err) {
      rows.push({ version, result: null, error: (err as Error).message });
    }
  }
  return rows;
}

// The Benchmarks screen's second table: every saved model version scored on the confirmed labels.
import { useCallback, useState } from 'react';
import type { Config } from '../config.js';
import { useEngine } from '../contexts/EngineContext.js';
import { useStore } from '../contexts/StoreContext.js';
import { evaluateVersions, evaluationLines } from '../services/version-scores.js';

export interface VersionTable {
  running: boolean;
  lines: string[];
  message: string | null;
}

export function useVersionEvaluation(config: Config, defaultModel: string) {
  const engine = useEngine();
  const { store } = useStore();
  const [table, setTable] = useState<VersionTable>({ running: false, lines: [], message: null });
  const run = useCallback(async () => {
    if (!engine.client || table.running) return;
    setTable((t) => ({ ...t, running: true, message: 'scoring every model version on the confirmed labels…' }));
    try {
      const versions = await engine.client.call('versions', { versionsDir: config.versions, defaultDir: defaultModel, shipped: config.shippedModels });
      const rows = await evaluateVersions(engine.client, config, versions, store);
      setTable({
        running: false,
        lines: evaluationLines(rows),
        message: `${versions.length} version(s) scored on the confirmed labels (labels a version trained on count too; retrain.json has the held-out figures)`,
      });
    } catch (err) {
      setTable({ running: false, lines: [], message: `could not score the versions: ${(err as Error).message}` });
    }
  }, [engine.client, table.running, config, defaultModel, store]);
  return { table, run };
}

// `slidetriage retrain` (a new model version from the store's confirmed labels) and `slidetriage
// models [list | promote ID | rollback ID]`.
import path from 'node:path';
import type { Config } from '../config.js';
import { CancelledError } from '../engine/protocol.js';
import type { EngineClient } from '../engine/client.js';
import type { Metrics } from '../engine/metrics.js';
import type { Comparison, RetrainResult } from '../engine/retrain/types.js';
import { findVersion, listVersions, setCurrent, type VersionInfo } from '../engine/versions.js';
import { buildRetrainRequest, type RetrainOptions } from '../services/retrain-request.js';
import { evaluateVersions, evaluationLines } from '../services/version-scores.js';
import { currentIdentity, openStore } from '../store/store.js';
import type { Output } from './output.js';
import { withEngine } from './with-engine.js';

const pct = (m: Metrics | null | undefined) => (m ? `${(m.accuracy * 100).toFixed(1)}%` : '–');
const auc = (m: Metrics | null | undefined) => (m ? (m.binary ? m.binary.auc : m.macro.auc).toFixed(4) : '–');

export function comparisonLines(result: Pick<RetrainResult, 'heldOut' | 'base'>): string[] {
  const row = (what: string, c: Comparison) => `| ${what} | ${c.n} | ${pct(c.current)} | ${pct(c.candidate)} | ${auc(c.current)} | ${auc(c.candidate)} | ${c.note ?? ''} |`;
  return [
    '| yardstick | images | current accuracy | new accuracy | current AUC | new AUC | note |',
    '|---|---|---|---|---|---|---|',
    row('held-out confirmed labels', result.heldOut),
    row('base test part', result.base),
  ];
}

export async function runRetrain(config: Config, o: RetrainOptions & { json: boolean }, out: Output): Promise<number> {
  return withEngine(config, out, 'retrain', async (engine: EngineClient) => {
    const model = await engine.call('load', { modelDir: config.model });
    const store = await openStore(config.store, currentIdentity(config.technicianName));
    const req = await buildRetrainRequest(config, store, config.model, model.classes, o).finally(() => store.close());
    out.info(
      `retraining ${model.id} (${o.mode === 'head' ? 'head only, on cached backbone features' : 'every layer'}) on ${req.train.length} labels, ${req.heldOut.length} held out${req.baseDataDir ? `, with ${req.baseDataDir}` : ''}`,
    );
    const handle = engine.start('retrain', req, (p) => out.info(p.message ?? `${p.done}/${p.total}`));
    const onSigint = () => handle.cancel();
    process.on('SIGINT', onSigint);
    try {
      const result = await handle.result;
      if (o.json) out.stdout(JSON.stringify(result));
      else {
        out.stdout(`new version ${result.id} in ${result.outDir} (${result.seconds.toFixed(0)} s, ${result.trainedOn} training images)`);
        for (const l of comparisonLines(result)) out.stdout(l);
        out.stdout(`promote it with: slidetriage models promote ${path.basename(result.outDir)}`);
      }
      return 0;
    } catch (err) {
      if (err instanceof CancelledError) {
        out.info('retraining cancelled; the current model is unchanged');
        return 130;
      }
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
    }
  });
}

function versionLine(v: VersionInfo): string {
  const c = v.heldOut;
  const figures = c ? `held-out ${pct(c.current)} → ${pct(c.candidate)} (n=${c.n})${v.base?.n ? `, base test ${pct(v.base.current)} → ${pct(v.base.candidate)}` : ''}` : '';
  return `${v.current ? '*' : ' '} ${path.basename(v.dir).padEnd(18)} ${v.id.padEnd(36)} ${v.kind.padEnd(7)} ${String(v.labels).padStart(5)} labels  ${figures}`;
}

/** models list | promote KEY | rollback KEY, where KEY is a folder name, an id (prefix) or "default". */
export async function runModels(config: Config, defaultModel: string, args: string[], out: Output): Promise<number> {
  const [action = 'list', key] = args;
  const versions = await listVersions(config.versions, defaultModel, config.shippedModels);
  if (action === 'list') {
    out.stdout('  version            id                                   kind    labels  figures (current → this version)');
    for (const v of versions) out.stdout(versionLine(v));
    return 0;
  }
  if (action === 'evaluate') return runEvaluateVersions(config, versions, out);
  if (action !== 'promote' && action !== 'rollback') {
    out.error(`models: unknown action "${action}" (list, evaluate, promote ID, rollback ID)`);
    return 2;
  }
  if (!key) {
    out.error(`models ${action} needs a version (see slidetriage models)`);
    return 2;
  }
  let target: VersionInfo;
  try {
    target = findVersion(versions, key);
  } catch (err) {
    out.error((err as Error).message);
    return 2;
  }
  if (target.current) {
    out.info(`${target.id} is already the current model`);
    return 0;
  }
  const who = currentIdentity(config.technicianName);
  await setCurrent(config.versions, target, action, who.displayName ? `${who.displayName} (${who.technician})` : who.technician);
  out.stdout(`${action === 'promote' ? 'promoted' : 'rolled back to'} ${target.id} (${target.dir}); the app re-scores the unconfirmed slides when it next loads the model`);
  return 0;
}

async function runEvaluateVersions(config: Config, versions: VersionInfo[], out: Output): Promise<number> {
  return withEngine(config, out, 'models evaluate', async (engine) => {
    const store = await openStore(config.store, currentIdentity(config.technicianName));
    const rows = await evaluateVersions(engine, config, versions, store).finally(() => store.close());
    for (const l of evaluationLines(rows)) out.stdout(l);
    return 0;
  });
}

// `slidetriage adapt`: a model version adapted to this lab from its own unlabelled slides, shown beside
// the current model on the slides it was not fitted on, promotable and reversible as a retrain's.
import path from 'node:path';
import type { Config } from '../config.js';
import type { EngineClient } from '../engine/client.js';
import type { AdaptResult, LabView } from '../engine/adapt/types.js';
import { buildAdaptRequest, type AdaptOptions } from '../services/adapt-request.js';
import { currentIdentity, openStore } from '../store/store.js';
import type { Output } from './output.js';
import { comparisonLines } from './retrain.js';
import { withEngine } from './with-engine.js';

const share = (k: number | null, n: number) => (k === null || !n ? '–' : `${k}/${n} (${((k / n) * 100).toFixed(1)}%)`);
const calls = (v: LabView) =>
  Object.entries(v.calls)
    .map(([c, k]) => `${c} ${k}`)
    .join(', ');

/** The before/after table on the lab's slides the new version was not fitted on. */
export function adaptLines(r: AdaptResult): string[] {
  const row = (what: string, v: LabView) => `| ${what} | ${share(v.flagged, v.n)} | ${share(v.calledMalignant, v.n)} | ${calls(v)} |`;
  const colour = r.colour.applied ? 'aligned to the training images’' : `left as it is: ${r.colour.note}`;
  return [
    `${r.slides.read} of the lab's slides read (${r.slides.fitted} fitted on, ${r.slides.checked} checked)${r.slides.unreadable.length ? `; ${r.slides.unreadable.length} unreadable` : ''}; colour ${colour}`,
    '| on the lab’s other slides | flagged unlike the training images | called malignant | calls |',
    '|---|---|---|---|',
    row(`current (${r.parent})`, r.before),
    row(`adapted (${r.id})`, r.after),
    ...(r.warning ? [`warning: ${r.warning}`] : []),
    ...(r.heldOut.n ? comparisonLines({ heldOut: r.heldOut, base: { n: 0, current: null, candidate: null, note: 'not used by adapt' } }).slice(0, 3) : []),
  ];
}

export async function runAdapt(config: Config, o: AdaptOptions & { json: boolean }, out: Output): Promise<number> {
  return withEngine(config, out, 'adapt', async (engine: EngineClient) => {
    const model = await engine.call('load', { modelDir: config.model });
    // A folder named on the command line needs no store; the incoming folder's slides come from it.
    const store = o.files ? null : await openStore(config.store, currentIdentity(config.technicianName), { readOnly: true });
    const req = await buildAdaptRequest(config, store, config.model, o).finally(() => store?.close());
    out.info(`adapting ${model.id} to ${o.files ? 'the named images' : 'the slides of the incoming folder'} (${req.files.length} image files)`);
    const result = await engine.start('adapt', req, (p) => out.info(p.message ?? `${p.done}/${p.total}`)).result;
    if (o.json) out.stdout(JSON.stringify(result));
    else {
      out.stdout(`new version ${result.id} in ${result.outDir} (${result.seconds.toFixed(0)} s)`);
      for (const l of adaptLines(result)) out.stdout(l);
      out.stdout(`promote it with: slidetriage models promote ${path.basename(result.outDir)}; go back with: slidetriage models rollback ${result.parent}`);
    }
    return 0;
  });
}

// The queue's keys: move, open (asking first when another technician has the slide), sort, filter, samples.
import { copySamples } from '../samples.js';
import { reportTo, type Handler, type KeyDeps } from './types.js';

export function queueHandlers(d: KeyDeps) {
  return {
    up: { run: () => d.dispatch({ type: 'move', by: -1, order: d.order }) },
    down: { run: () => d.dispatch({ type: 'move', by: 1, order: d.order }) },
    open: {
      run: () => void d.leases.open(),
      disabled: () => (!d.row ? 'no slide in this list' : d.state.stateFilter === 'rejected' ? 'a rejected file is not a slide: it cannot be opened (f shows the slides again)' : null),
    },
    'open-anyway': { run: () => void d.leases.openAnyway() },
    sort: { run: () => d.dispatch({ type: 'sort' }) },
    'filter-state': { run: () => d.dispatch({ type: 'filter-state' }) },
    'filter-label': { run: () => d.dispatch({ type: 'filter-label', labels: d.classes }) },
    'copy-samples': {
      run: () => void copySamples(d.config.incoming).then((n) => d.dispatch({ type: 'message', text: `${n} sample images copied into ${d.config.incoming}/samples` }), reportTo(d)),
    },
  } satisfies Record<string, Handler>;
}

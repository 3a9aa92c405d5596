// Keys that work on every screen: help, the screens, quit, and scrolling the long screens.
import { contentRows } from '../../components/ScrollLines.js';
import type { Handler, KeyDeps } from './types.js';

function scroll(d: KeyDeps, how: 'line-up' | 'line-down' | 'page'): Handler {
  return {
    run() {
      const screen = d.latest.current.screen === 'help' ? 'help' : 'benchmarks';
      const { rows, count } = d.scrollLimits(screen);
      // The last page ends on the last line; the position line takes a row once the lines do not fit.
      const max = count > rows ? count - contentRows(rows) : 0;
      d.dispatch({ type: 'scroll', screen, by: how === 'line-up' ? -1 : how === 'line-down' ? 1 : contentRows(rows), max });
    },
  };
}

export function globalHandlers(d: KeyDeps) {
  return {
    quit: {
      run() {
        // A note typed but not yet decided on is asked about, not dropped in silence.
        if (d.latest.current.note && !d.latest.current.quitAsked) return d.dispatch({ type: 'quit-asked', asked: true });
        d.cancelJob();
        d.quit();
      },
    },
    help: { run: () => d.dispatch({ type: 'toggle-help' }) },
    'go-queue': {
      run() {
        d.cancelJob();
        d.dispatch({ type: 'go', screen: 'queue' });
      },
    },
    'go-retrain': { run: () => d.dispatch({ type: 'go', screen: 'retrain' }) },
    'go-benchmarks': { run: () => d.dispatch({ type: 'go', screen: 'benchmarks' }) },
    'scroll-up': scroll(d, 'line-up'),
    'scroll-down': scroll(d, 'line-down'),
    'scroll-page': scroll(d, 'page'),
  } satisfies Record<string, Handler>;
}

// The slide's keys: decide (a class, or confirm), undo, note, move on, more explanations, layout, zoom.
import { EVIDENCE_KEY } from '../../core/evidence.js';
import { reportTo, type Handler, type KeyDeps } from './types.js';

function move(d: KeyDeps, by: 1 | -1): Handler {
  return {
    run() {
      d.cancelJob();
      d.dispatch({ type: 'move', by, order: d.order, skip: d.busyElsewhere });
    },
  };
}

export function slideHandlers(d: KeyDeps) {
  return {
    'set-class': {
      run(input: string) {
        const label = d.classes[Number(input) - 1];
        if (label) void d.decide(label).catch(reportTo(d));
        else d.dispatch({ type: 'message', text: `there is no class ${input}` });
      },
    },
    confirm: {
      run: () => void d.decide(d.prediction!.label).catch(reportTo(d)),
      disabled: () => (d.prediction ? null : 'no prediction to confirm yet: press a number key to set the class'),
    },
    undo: { run: () => void d.undo().catch(reportTo(d)) },
    skip: move(d, 1),
    next: move(d, 1),
    previous: move(d, -1),
    'explain-more': {
      run: () => void d.explainMore(),
      disabled: () =>
        !d.modelReady
          ? 'the model is not loaded yet'
          : d.jobRunning
            ? 'an explanation is already running: Esc cancels it'
            : d.nothingToExplain
              ? 'this slide shows every method of explain.methods already'
              : null,
    },
    layout: { run: () => d.dispatch({ type: 'layout' }) },
    // The zoom steps through the maps only (not the plain image): a count of all would make every
    // fourth Tab land on the map already shown.
    'next-map': {
      run: () => d.dispatch({ type: 'next-map', count: Object.keys(d.prediction?.explanations ?? {}).filter((m) => m !== EVIDENCE_KEY && (d.latest.current.zoom === null || m !== 'image')).length }),
    },
    'next-cell': {
      run: () => d.dispatch({ type: 'next-cell' }),
      disabled: () => (d.prediction?.explanations[EVIDENCE_KEY] ? null : 'no cells are marked under this slide’s map (scored before they were, or without a map)'),
    },
    zoom: { run: () => d.dispatch({ type: 'zoom' }) },
    back: { run: () => (d.jobRunning ? d.cancelJob() : d.dispatch({ type: 'go', screen: 'queue' })) },
    note: {
      run() {
        if (!d.row) return;
        const waiting = d.latest.current.note ? d.latest.current.noteSha : null;
        if (waiting && waiting !== d.row.sha256)
          return d.dispatch({ type: 'message', text: `${d.slidePath(waiting)} has a note waiting: decide that slide first, or drop the note there (n, then Esc)` });
        d.dispatch({ type: 'note-start', sha: d.row.sha256 });
      },
    },
    'save-note': { run: () => d.dispatch({ type: 'note-end', keep: true }) },
    'cancel-note': { run: () => d.dispatch({ type: 'note-end', keep: false }) },
  } satisfies Record<string, Handler>;
}

export function zoomHandlers(d: KeyDeps) {
  return {
    unzoom: { run: () => d.dispatch({ type: 'zoom' }) },
    'map-off-on': { run: () => d.dispatch({ type: 'zoom-overlay' }) },
    'opacity-up': { run: () => d.dispatch({ type: 'zoom-opacity', by: 0.25 }) },
    'opacity-down': { run: () => d.dispatch({ type: 'zoom-opacity', by: -0.25 }) },
  } satisfies Record<string, Handler>;
}

// The interactive app: Ink on the terminal, the engine in its worker thread, the store and watcher
// behind contexts. This file routes keys to actions; each screen only draws.
import path from 'node:path';
import React, { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Box, render, Text, useApp, useInput, useStdin, useStdout } from 'ink';
import type { Config } from './config.js';
import { EngineClient, type CallHandle } from './engine/client.js';
import type { ExplainResult } from './engine/protocol.js';
import { EngineProvider, useEngine } from './contexts/EngineContext.js';
import { StoreProvider, useStore } from './contexts/StoreContext.js';
import { currentIdentity, SlideStore } from './store/store.js';
import { actionFor, type Context, type InkKey } from './keymap.js';
import { keyContext, selectedIndex, useTriage } from './state/triage.js';
import { filterRows, slideRows, sortRows } from './app/rows.js';
import { loadOriginal, loadSlide, writeOverlays } from './app/predictor.js';
import { copySamples } from './app/samples.js';
import { slidePathOf, useDecisions } from './app/decisions.js';
import { useLeases } from './app/leases.js';
import { QueueScreen } from './screens/QueueScreen.js';
import { SlideScreen, type ExplainJob } from './screens/SlideScreen.js';
import { ZoomScreen } from './screens/ZoomScreen.js';
import { HelpScreen, helpLines, helpListHeight } from './screens/HelpScreen.js';
import { contentRows } from './components/ScrollLines.js';
import { benchResultsFile, useBenchResults } from './app/bench-results.js';
import { useRetrain } from './app/retrain.js';
import { useVersionEvaluation } from './app/version-evaluation.js';
import { RetrainScreen } from './screens/RetrainScreen.js';
import { BenchmarksScreen, benchmarkLines, benchmarkRows } from './screens/BenchmarksScreen.js';
import { StatusBar, statusBarRows } from './components/StatusBar.js';
import { describeCompleteness } from './services/completeness.js';
import { GraphicsProvider } from './contexts/GraphicsContext.js';
import { detectGraphics } from './terminal/query.js';
import { ImagePainter } from './terminal/painter.js';

/**
 * Ink's useInput needs a TTY on stdin; without one the app shows its state and is stopped with Ctrl-C.
 * The handler is read through a ref updated in a layout effect: Ink re-registers a changed handler in a
 * passive effect, which can run after a key already arrived for the new screen.
 */
function Keys({ onKey }: { onKey: (input: string, key: InkKey) => void }) {
  const handler = useRef(onKey);
  useLayoutEffect(() => {
    handler.current = onKey;
  });
  useInput((input, key) => handler.current(input, key));
  return null;
}

export function App({ config, technician, defaultModel }: { config: Config; technician: string; defaultModel?: string }) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const { stdout } = useStdout();
  const engine = useEngine();
  const { store, data, refresh, warnings } = useStore();
  const [state, dispatch, latest] = useTriage();
  const [job, setJob] = useState<ExplainJob | null>(null);
  // Quitting draws one last frame without images (sixel and iTerm2 pictures would stay on screen), then exits.
  const [quitting, setQuitting] = useState(false);
  useEffect(() => {
    if (quitting) exit();
  }, [quitting, exit]);
  const jobHandle = useRef<CallHandle<ExplainResult> | null>(null);
  const width = stdout.columns || 80;
  const height = stdout.rows || 24;
  // The rows of the help, retrain and benchmarks screens: the terminal less the status bar and the
  // lines that can stand under a screen (the quit question, the warnings).
  // The status bar's extra line on narrow terminals comes out of every screen.
  const narrow = statusBarRows(width) - 2;
  const screenRows = height - 3 - narrow - (state.quitAsked ? 2 : 0) - (engine.warning ? 1 : 0) - (warnings.length ? 1 : 0);
  const classes = engine.model?.classes ?? config.classes;
  const retrain = useRetrain(config, defaultModel ?? config.model, technician);
  const versionEvaluation = useVersionEvaluation(config, defaultModel ?? config.model);
  const benchResults = useBenchResults(config.benchResults, state.screen === 'benchmarks');
  const benchView = { results: benchResults, file: benchResultsFile(config.benchResults), model: engine.model, versions: versionEvaluation.table, width };

  const allRows = useMemo(() => sortRows(slideRows(data, engine.model?.id ?? null), state.sort), [data, engine.model, state.sort]);
  const rows = useMemo(() => filterRows(allRows, state.stateFilter, state.labelFilter), [allRows, state.stateFilter, state.labelFilter]);
  const rejected = useMemo(() => Object.values(data.files).filter((f) => f.state === 'rejected'), [data]);
  const order = useMemo(() => rows.map((r) => r.sha256), [rows]);
  const slidePath = (sha: string | null) => slidePathOf(data, sha);
  const selected = selectedIndex(state, order);
  // The open slide, decided meanwhile by another technician, left this list: it stays on the screen (with
  // its new label) until the technician moves on, rather than another slide taking its place unseen.
  const held = state.screen === 'slide' && state.selectedSha && !order.includes(state.selectedSha) && state.lastDecided?.sha !== state.selectedSha ? allRows.find((r) => r.sha256 === state.selectedSha) : undefined;
  const row = held ?? rows[selected];
  // The zoomed slide's own pixels, read once per slide (Tab and opacity keys reuse them); null: the preview.
  const zoomedSha = state.zoom !== null ? row?.sha256 : undefined;
  const resize = engine.model?.resize;
  const original = useMemo(() => (zoomedSha && row && resize ? loadOriginal(config, row, resize).catch(() => null) : null), [zoomedSha, resize, config]); // eslint-disable-line react-hooks/exhaustive-deps
  // Hold the selection on the slide shown (see selectedIndex): after a re-sort, or once the slide it
  // held has left the list.
  useEffect(() => {
    if (row && !held && (row.sha256 !== state.selectedSha || selected !== state.selected)) dispatch({ type: 'pin', sha: row.sha256, index: selected });
  }, [row, held, selected, state.selectedSha, state.selected, dispatch]);
  const prediction = row ? ((data.predictions[row.sha256] ?? []).findLast((p) => p.modelId === engine.model?.id) ?? null) : null;

  const leases = useLeases({ row, order, state, latest, dispatch });
  // Moving on from a slide passes over those another technician has open.
  const busyElsewhere = (sha: string) => sha !== row?.sha256 && !leases.isFree(sha);

  const cancelJob = useCallback(() => {
    jobHandle.current?.cancel();
    jobHandle.current = null;
    setJob(null);
  }, []);

  const { decide, undo } = useDecisions({ row, prediction, order, state, latest, dispatch, isFree: leases.isFree, claim: leases.claim, holdWhile: leases.holdWhile });

  const explainMore = useCallback(async () => {
    if (!row || !engine.client || !engine.model || job) return;
    const model = engine.model;
    const sha = row.sha256;
    try {
      const { input, shown } = await loadSlide(config, row, model);
      const handle = engine.client.start('explain', { image: input, methods: ['lime', 'ig'], target: prediction ? model.classes.indexOf(prediction.label) : undefined, options: { lime: { ...config.explain.lime }, ig: { ...config.explain.ig } } }, (p) =>
        setJob({ sha256: sha, done: p.done, total: p.total, method: p.message ?? '' }),
      );
      jobHandle.current = handle;
      setJob({ sha256: sha, done: 0, total: 2, method: 'lime' });
      const result = await handle.result;
      const files = await writeOverlays(config, sha, model, shown, result.heatmaps);
      await store.update((d) => {
        const p = (d.predictions[sha] ?? []).findLast((x) => x.modelId === model.id);
        if (p) p.explanations = { ...p.explanations, ...files };
      });
      await refresh();
      dispatch({ type: 'message', text: `LIME ${Math.round(result.heatmaps[0].ms)} ms, IG ${Math.round(result.heatmaps[1].ms)} ms; ${describeCompleteness(result.heatmaps[1].diagnostics, config.explain.ig.baseline)}` });
    } catch (err) {
      dispatch({ type: 'message', text: (err as Error).name === 'CancelledError' ? 'explanation cancelled' : `explanation failed: ${(err as Error).message}` });
    } finally {
      jobHandle.current = null;
      setJob(null);
    }
  }, [row, engine, job, config, prediction, store, refresh, dispatch]);

  const run = (action: string | undefined, input: string) => {
    const onError = (err: Error) => dispatch({ type: 'message', text: err.message });
    switch (action) {
      case 'quit':
        // A note typed but not yet decided on is asked about, not dropped in silence.
        if (latest.current.note && !latest.current.quitAsked) return dispatch({ type: 'quit-asked', asked: true });
        cancelJob();
        return setQuitting(true);
      case 'help':
        return dispatch({ type: 'toggle-help' });
      case 'scroll-up':
      case 'scroll-down':
      case 'scroll-page': {
        const screen = latest.current.screen === 'help' ? 'help' : 'benchmarks';
        const rows = screen === 'help' ? helpListHeight(screenRows) : benchmarkRows(screenRows);
        const count = screen === 'help' ? helpLines(keyContext({ ...latest.current, screen: latest.current.previous }), width).length : benchmarkLines({ ...benchView, rows }).length;
        // The last page ends on the last line; the position line takes a row once the lines do not fit.
        const max = count > rows ? count - contentRows(rows) : 0;
        return dispatch({ type: 'scroll', screen, by: action === 'scroll-up' ? -1 : action === 'scroll-down' ? 1 : contentRows(rows), max });
      }
      case 'go-queue':
        cancelJob();
        return dispatch({ type: 'go', screen: 'queue' });
      case 'go-retrain':
        return dispatch({ type: 'go', screen: 'retrain' });
      case 'go-benchmarks':
        return dispatch({ type: 'go', screen: 'benchmarks' });
      case 'up':
        return dispatch({ type: 'move', by: -1, order });
      case 'down':
        return dispatch({ type: 'move', by: 1, order });
      case 'open':
        return row && state.stateFilter !== 'rejected' ? leases.open() : undefined;
      case 'open-anyway':
        return leases.openAnyway();
      case 'sort':
        return dispatch({ type: 'sort' });
      case 'filter-state':
        return dispatch({ type: 'filter-state' });
      case 'filter-label':
        return dispatch({ type: 'filter-label', labels: classes });
      case 'copy-samples':
        return void copySamples(config.incoming).then((n) => dispatch({ type: 'message', text: `${n} sample images copied into ${config.incoming}/samples` }), onError);
      case 'set-class': {
        const label = classes[Number(input) - 1];
        return label ? void decide(label).catch(onError) : dispatch({ type: 'message', text: `there is no class ${input}` });
      }
      case 'confirm':
        return prediction ? void decide(prediction.label).catch(onError) : dispatch({ type: 'message', text: 'no prediction to confirm yet: press a number key to set the class' });
      case 'undo':
        return void undo().catch(onError);
      case 'skip':
      case 'next':
        cancelJob();
        return dispatch({ type: 'move', by: 1, order, skip: busyElsewhere });
      case 'previous':
        cancelJob();
        return dispatch({ type: 'move', by: -1, order, skip: busyElsewhere });
      case 'explain-more':
        return void explainMore();
      case 'layout':
        return dispatch({ type: 'layout' });
      case 'next-map':
        // The zoom steps through the maps only (not the plain image): a count of all would make every
        // fourth Tab land on the map already shown.
        return dispatch({ type: 'next-map', count: Object.keys(prediction?.explanations ?? {}).filter((m) => latest.current.zoom === null || m !== 'image').length });
      case 'zoom':
      case 'unzoom':
        return dispatch({ type: 'zoom' });
      case 'map-off-on':
        return dispatch({ type: 'zoom-overlay' });
      case 'opacity-up':
      case 'opacity-down':
        return dispatch({ type: 'zoom-opacity', by: action === 'opacity-up' ? 0.25 : -0.25 });
      case 'back':
        if (job) return cancelJob();
        return dispatch({ type: 'go', screen: 'queue' });
      case 'note': {
        if (!row) return;
        const waiting = latest.current.note ? latest.current.noteSha : null;
        if (waiting && waiting !== row.sha256) return dispatch({ type: 'message', text: `${slidePath(waiting)} has a note waiting: decide that slide first, or drop the note there (n, then Esc)` });
        return dispatch({ type: 'note-start', sha: row.sha256 });
      }
      case 'evaluate-versions':
        return void versionEvaluation.run();
      case 'retrain-start':
        return void retrain.start();
      case 'retrain-mode':
        return retrain.dispatch({ type: 'mode' });
      case 'version-up':
        return retrain.dispatch({ type: 'move', by: -1 });
      case 'version-down':
        return retrain.dispatch({ type: 'move', by: 1 });
      case 'promote':
        return retrain.ask();
      case 'promote-yes':
        return void retrain.promote();
      case 'retrain-cancel':
        return retrain.state.job || retrain.state.confirm ? retrain.cancel() : dispatch({ type: 'go', screen: 'queue' });
      case 'save-note':
        return dispatch({ type: 'note-end', keep: true });
      case 'cancel-note':
        return dispatch({ type: 'note-end', keep: false });
    }
  };

  const onKey = (input: string, key: InkKey): void => {
    // A burst of keys (a fast typist, a paste, a slow terminal) can arrive as one chunk: one key at a time.
    if (input.length > 1 && !input.startsWith('\x1b')) {
      for (const c of input) onKey(c, { ...key, return: c === '\r' || c === '\n', backspace: c === '\x7f' || c === '\b', tab: c === '\t' });
      return;
    }
    // The state as of the last key, not of the last render (see useTriage).
    const ctx: Context = keyContext(latest.current);
    const action = actionFor(ctx, input, key);
    if (ctx === 'note' && !action) {
      // Every other key is text for the note.
      if (key.backspace || key.delete) return dispatch({ type: 'note-type', input: '', backspace: true });
      if (input && !key.ctrl && !key.meta) return dispatch({ type: 'note-type', input, backspace: false });
      return;
    }
    if (latest.current.quitAsked && action !== 'quit') dispatch({ type: 'quit-asked', asked: false });
    return run(action, input);
  };

  if (quitting) return <StatusBar technician={technician} width={width} />;
  return (
    <Box flexDirection="column">
      {isRawModeSupported && <Keys onKey={onKey} />}
      {engine.status === 'failed' && <Text color="red">The engine could not start: {engine.error}</Text>}
      {engine.status === 'no-model' && <Text color="yellow">No model could be loaded ({engine.error}). Start with --model DIR, or train one with `slidetriage train`.</Text>}
      {state.screen === 'queue' && <QueueScreen rows={rows} rejected={rejected} state={state} selected={selected} height={height - 3 - narrow} incoming={config.incoming} modelReady={!!engine.model} />}
      {state.screen === 'slide' && row && state.zoom !== null && (
        <ZoomScreen original={original} row={row} prediction={prediction} storeDir={path.dirname(config.store)} mapIndex={state.enlarged} opacity={state.zoom} width={width} height={height - 2 - narrow} inputSize={engine.model?.inputSize ?? null} />
      )}
      {state.screen === 'slide' && row && state.zoom === null && (
        <SlideScreen
          row={row}
          index={held ? null : selected}
          count={rows.length}
          classes={classes}
          prediction={prediction}
          decisions={data.decisions[row.sha256] ?? []}
          storeDir={path.dirname(config.store)}
          state={state}
          width={width}
          height={height - 2 - narrow}
          job={job}
          noteWaitsOn={state.note && state.noteSha !== row.sha256 ? slidePath(state.noteSha) : null}
          inputSize={engine.model?.inputSize ?? null}
        />
      )}
      {state.screen === 'slide' && !row && (
        <Box flexDirection="column" paddingX={1}>
          {state.message ? <Text color="green">{state.message}</Text> : null}
          <Text>All slides in this list are done. Press g for the queue.</Text>
        </Box>
      )}
      {state.screen === 'help' && <HelpScreen from={keyContext({ ...state, screen: state.previous })} width={width} height={screenRows} offset={state.scroll.help} />}
      {state.screen === 'retrain' && <RetrainScreen state={retrain.state} modelId={engine.model?.id ?? null} height={screenRows} />}
      {state.screen === 'benchmarks' && <BenchmarksScreen {...benchView} height={screenRows} offset={state.scroll.benchmarks} />}
      {state.screen === 'queue' && state.message ? <Text color="green">{state.message}</Text> : null}
      {state.quitAsked ? (
        <Text color="yellow">
          A note waits for the decision on {slidePath(state.noteSha)} (&quot;{state.note}&quot;): decide that slide, or press {state.noteMode ? 'Ctrl-C' : 'q'} again to quit without the note.
        </Text>
      ) : null}
      {engine.warning ? <Text color="yellow" wrap="truncate-end">engine: {engine.warning}</Text> : null}
      {warnings.length ? <Text color="yellow" wrap="truncate-end">warning: {warnings.at(-1)}</Text> : null}
      <StatusBar technician={technician} width={width} />
    </Box>
  );
}

export async function runApp(config: Config, defaultModel = config.model): Promise<number> {
  const identity = currentIdentity(config.technicianName);
  const store = await SlideStore.open(config.store, config.journal, identity);
  const client = new EngineClient();
  const graphics = await detectGraphics(config.display.images);
  const painter = new ImagePainter(process.stdout, graphics.passthrough);
  painter.install();
  const instance = render(
    <GraphicsProvider value={{ graphics, painter }}>
      <EngineProvider config={config} client={client}>
        <StoreProvider config={config} store={store}>
          <App config={config} defaultModel={defaultModel} technician={identity.displayName ? `${identity.displayName} (${identity.technician})` : identity.technician} />
        </StoreProvider>
      </EngineProvider>
    </GraphicsProvider>,
    // Ctrl-C is a key of the keymap, so that it asks, as q does, before a typed note is lost. (Ink's
    // incrementalRendering would spare the image rows, but in 6.8 it misplaces frames that change height.)
    { exitOnCtrlC: false },
  );
  await instance.waitUntilExit();
  painter.uninstall();
  await client.close();
  return 0;
}

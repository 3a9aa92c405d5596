// The interactive app: Ink on the terminal, the engine in its worker thread, the store and watcher
// behind contexts. This file routes keys to actions; each screen only draws.
import React, { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Box, render, Text, useApp, useInput, useStdin, useStdout } from 'ink';
import type { Config } from './config.js';
import { storeFolder } from './config.js';
import { EngineClient } from './engine/client.js';
import { EngineProvider, useEngine } from './contexts/EngineContext.js';
import { StoreProvider, useStore } from './contexts/StoreContext.js';
import { currentIdentity, openStore } from './store/store.js';
import { assertStoreIntact, damagedError } from './store/integrity.js';
import { afterCheck, verifyInBackground } from './store/verify-background.js';
import { actionFor, type Action, type Context, type InkKey } from './keymap.js';
import { keyContext, useTriage } from './state/triage.js';
import { useSelection } from './app/selection.js';
import { slidePathOf, useDecisionHistory, useDecisions } from './app/decisions.js';
import { useLeases } from './app/leases.js';
import { useExplainMore } from './app/explain-more.js';
import { keyHandlers } from './app/keys/index.js';
import { QueueScreen } from './screens/QueueScreen.js';
import { OpenSlide } from './screens/OpenSlide.js';
import { Notices } from './components/Notices.js';
import { HelpScreen, helpLines, helpListHeight } from './screens/HelpScreen.js';
import { benchResultsFile, useBenchResults } from './bench/results.js';
import { useRetrain } from './app/retrain.js';
import { useVersionEvaluation } from './app/version-evaluation.js';
import { RetrainScreen } from './screens/RetrainScreen.js';
import { BenchmarksScreen, benchmarkLines, benchmarkRows } from './screens/BenchmarksScreen.js';
import { StatusBar, statusBarRows } from './components/StatusBar.js';
import { GraphicsProvider } from './contexts/GraphicsContext.js';
import { detectGraphics } from './terminal/query.js';
import { ImagePainter } from './terminal/painter.js';
import { visible } from './core/safe-text.js';

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

/** The rows a scrolling screen has and the lines it holds (help's lines given, the benchmarks' counted). */
function scrollLimits(screen: 'help' | 'benchmarks', screenRows: number, helpCount: number | null, benchView: Omit<Parameters<typeof benchmarkLines>[0], 'rows'>) {
  const rows = screen === 'help' ? helpListHeight(screenRows) : benchmarkRows(screenRows);
  return { rows, count: helpCount ?? benchmarkLines({ ...benchView, rows }).length };
}

export function App({ config, technician, defaultModel }: { config: Config; technician: string; defaultModel?: string }) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const { stdout } = useStdout();
  const engine = useEngine();
  const { warnings, warn, summary, version } = useStore();
  const [state, dispatch, latest] = useTriage();
  // Quitting draws one last frame without images (sixel and iTerm2 pictures would stay on screen), then exits.
  const [quitting, setQuitting] = useState(false);
  useEffect(() => {
    if (quitting) exit();
  }, [quitting, exit]);
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

  const { rows, rejected, order, selected, held, row, original, prediction } = useSelection({ config, model: engine.model, state, dispatch, warn });
  const slidePath = (sha: string | null) => slidePathOf(rows, sha);
  const decisions = useDecisionHistory(state.screen === 'slide' ? row?.sha256 : undefined);

  const leases = useLeases({ row, order, state, latest, dispatch });
  // Moving on from a slide passes over those another technician has open.
  const busyElsewhere = (sha: string) => sha !== row?.sha256 && !leases.isFree(sha);

  const { decide, undo } = useDecisions({ row, rows, prediction, order, state, latest, dispatch, isFree: leases.isFree, claim: leases.claim, holdWhile: leases.holdWhile });

  const { job, explainMore, cancelJob, nothingToAdd } = useExplainMore({ config, row, prediction, dispatch });
  /** The handlers as of this render, made when a key comes (they read `latest`, a ref, only then). */
  const handlerFor = (action: Action) =>
    keyHandlers({
      config,
      state,
      latest,
      dispatch,
      row,
      prediction,
      order,
      classes,
      leases,
      decide,
      undo,
      busyElsewhere,
      slidePath,
      retrain,
      versionEvaluation,
      explainMore,
      cancelJob,
      ...{ jobRunning: job !== null, nothingToExplain: nothingToAdd, modelReady: !!engine.model, quit: () => setQuitting(true) },
      scrollLimits: (screen) => scrollLimits(screen, screenRows, screen === 'help' ? helpLines(keyContext({ ...latest.current, screen: latest.current.previous }), width).length : null, benchView),
    })[action];

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
    if (!action) return;
    const handler = handlerFor(action);
    const reason = handler.disabled?.();
    if (reason) return dispatch({ type: 'message', text: reason });
    handler.run(input);
  };

  if (quitting) return <StatusBar technician={technician} width={width} />;
  return (
    <Box flexDirection="column">
      {isRawModeSupported && <Keys onKey={onKey} />}
      {engine.status === 'failed' && <Text color="red">The engine could not start: {engine.error}</Text>}
      {engine.status === 'no-model' && <Text color="yellow">No model could be loaded ({engine.error}). Start with --model DIR, or train one with `slidetriage train`.</Text>}
      {state.screen === 'queue' && (
        <QueueScreen
          {...{ order, rows, rejected, state, selected }}
          rejectedCount={summary.files.rejected}
          height={height - 3 - narrow}
          incoming={config.incoming}
          modelReady={!!engine.model}
          loaded={version > 0}
        />
      )}
      {state.screen === 'slide' && (
        <OpenSlide
          {...{ row, classes, prediction, state, width, job, original }}
          index={held ? null : selected}
          count={order.length}
          decisions={decisions}
          storeDir={storeFolder(config)}
          height={height - 2 - narrow}
          noteWaitsOn={row && state.note && state.noteSha !== row.sha256 ? slidePath(state.noteSha) : null}
          inputSize={engine.model?.inputSize ?? null}
        />
      )}
      {state.screen === 'help' && <HelpScreen from={keyContext({ ...state, screen: state.previous })} width={width} height={screenRows} offset={state.scroll.help} />}
      {state.screen === 'retrain' && <RetrainScreen state={retrain.state} modelId={engine.model?.id ?? null} height={screenRows} />}
      {state.screen === 'benchmarks' && <BenchmarksScreen {...benchView} height={screenRows} offset={state.scroll.benchmarks} />}
      {state.screen === 'queue' && state.message ? <Text color="green">{visible(state.message)}</Text> : null}
      <Notices
        quit={state.quitAsked ? { slide: slidePath(state.noteSha), note: state.note, key: state.noteMode ? 'Ctrl-C' : 'q' } : null}
        engineWarning={engine.warning}
        warning={warnings.at(-1) ?? null}
      />
      <StatusBar technician={technician} width={width} />
    </Box>
  );
}

/**
 * `ingest`: on a store with engine hosts (cluster.engineHosts), this instance watches the incoming folder
 * and enqueues new slides; without it, another host ingests. Elsewhere the app watches and classifies itself.
 */
export async function runApp(config: Config, defaultModel = config.model, o: { ingest?: boolean } = {}): Promise<number> {
  const identity = currentIdentity(config.technicianName);
  const opened = await openStore(config.store, identity);
  // A damaged store is named before the first frame, never found half-way through a day's decisions: the
  // journal's pages and its tail since it last verified whole now, the whole journal in the background
  // (seconds at a million slides), with decisions held until it passes.
  await assertStoreIntact(opened, { recent: true }).catch(async (err) => {
    await opened.close();
    throw err;
  });
  const whole = verifyInBackground(config.store, identity);
  const store = afterCheck(opened, whole);
  const hosts = config.cluster.engineHosts ? await import('./cluster/app-ingest.js').then((m) => m.appIngest(config, !!o.ingest)) : null;
  const client = new EngineClient();
  const graphics = await detectGraphics(config.display.images, config.display.cellPixels);
  const painter = new ImagePainter(process.stdout, graphics.passthrough);
  painter.install();
  const instance = render(
    <GraphicsProvider value={{ graphics, painter }}>
      <EngineProvider config={config} client={client}>
        <StoreProvider config={config} store={store} watch={hosts ? hosts.watch : true} predict={!hosts} onQueued={hosts?.enqueue}>
          <App config={config} defaultModel={defaultModel} technician={identity.displayName ? `${identity.displayName} (${identity.technician})` : identity.technician} />
        </StoreProvider>
      </EngineProvider>
    </GraphicsProvider>,
    // Ctrl-C is a key of the keymap, so that it asks, as q does, before a typed note is lost. (Ink's
    // incrementalRendering would spare the image rows, but in 6.8 it misplaces frames that change height.)
    { exitOnCtrlC: false },
  );
  // A journal found damaged in the background ends the session with the damage named.
  let damage: Error | null = null;
  void whole.then((r) => {
    if (r.ok) return;
    damage = damagedError(config.store, r);
    instance.unmount();
  });
  await instance.waitUntilExit();
  painter.uninstall();
  await Promise.all([client.close(), hosts?.close(), store.close()]);
  if (damage) throw damage;
  return 0;
}

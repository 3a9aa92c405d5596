// Every headless command that needs the engine: start the worker, report the backend, always close.
import type { Config } from '../config.js';
import { EngineClient, type EngineNoteListener } from '../engine/client.js';
import { describeBackend, type BackendReport } from '../engine/tfjs/backend.js';
import type { Output } from './output.js';

/** The engine's notes a script should see, on stderr: its warnings (a runtime it could not use, a restart after its worker died) and a recovery. */
export function engineNotesTo(out: Output): EngineNoteListener {
  return (level, message) => {
    if (level === 'warn') out.info(`warning: ${message}`);
    else if (level === 'recovered') out.info(message);
  };
}

export async function withEngine(config: Config, out: Output, what: string, fn: (engine: EngineClient, backend: BackendReport) => Promise<number>): Promise<number> {
  const engine = new EngineClient({ onLog: engineNotesTo(out) });
  try {
    const backend = await engine.call('init', { backend: config.backend, threads: config.threads, runtime: config.runtime, onnxProvider: config.onnxProvider });
    out.info(describeBackend(backend));
    return await fn(engine, backend);
  } catch (err) {
    out.error(`${what} failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await engine.close();
  }
}

// Every headless command that needs the engine: start the worker, report the backend, always close.
import type { Config } from '../config.js';
import { EngineClient } from '../engine/client.js';
import { describeBackend, type BackendReport } from '../engine/tfjs/backend.js';
import type { Output } from './output.js';

export async function withEngine(config: Config, out: Output, what: string, fn: (engine: EngineClient, backend: BackendReport) => Promise<number>): Promise<number> {
  // The engine's warnings (a runtime it could not use, a restart after its worker died) go to stderr.
  const engine = new EngineClient({ onLog: (level, message) => level === 'warn' && out.info(`warning: ${message}`) });
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

// The app on a store served by engine hosts: it classifies nothing itself; with --ingest it watches the
// incoming folder and enqueues each new slide for the hosts.
import type { Config } from '../config.js';
import { isPostgresAddress } from '../store/postgres/connection.js';
import { enqueueSlides, openJobs } from './jobs.js';

export async function appIngest(config: Config, ingest: boolean): Promise<{ watch: boolean; enqueue?: (sha256s: string[]) => void; close(): Promise<void> }> {
  if (!isPostgresAddress(config.store)) throw new Error('cluster.engineHosts needs a PostgreSQL store: set "store" to postgres://user@host/db');
  if (!ingest) return { watch: false, close: async () => undefined };
  const boss = await openJobs(config.store, config.cluster);
  let sending = Promise.resolve();
  return {
    watch: true,
    enqueue: (shas) => {
      sending = sending.then(() => enqueueSlides(boss, shas).then(() => undefined)).catch(() => undefined);
    },
    close: async () => {
      await sending;
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },
  };
}

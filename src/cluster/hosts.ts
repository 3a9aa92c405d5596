// Engine hosts' heartbeats, in the store's database: who serves which model, and when it was last seen.
import pg from 'pg';
import { hostName } from '../core/host.js';

/** A host not seen for this long is taken as gone. */
export const ALIVE_MS = 15_000;

export interface EngineHost {
  host: string;
  pid: number;
  modelId: string;
  seenAgoMs: number;
  jobsDone: number;
}

export async function heartbeat(pool: pg.Pool, modelId: string, jobsDone: number, startedAt: string): Promise<void> {
  await pool.query(
    `INSERT INTO engine_hosts (host, pid, model_id, started_at, seen_at, jobs_done) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (host, pid) DO UPDATE SET model_id = excluded.model_id, seen_at = excluded.seen_at, jobs_done = excluded.jobs_done`,
    [hostName(), process.pid, modelId, startedAt, Date.now(), jobsDone],
  );
}

export async function leaveHosts(pool: pg.Pool): Promise<void> {
  await pool.query('DELETE FROM engine_hosts WHERE host = $1 AND pid = $2', [hostName(), process.pid]);
}

export async function aliveHosts(pool: pg.Pool): Promise<EngineHost[]> {
  const { rows } = await pool.query('SELECT * FROM engine_hosts WHERE seen_at > $1 ORDER BY host, pid', [Date.now() - ALIVE_MS]);
  return rows.map((r) => ({ host: r.host, pid: r.pid, modelId: r.model_id, seenAgoMs: Date.now() - r.seen_at, jobsDone: r.jobs_done }));
}

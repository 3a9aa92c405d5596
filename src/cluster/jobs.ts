// The classification jobs of a lab with engine hosts, in the store's own PostgreSQL database (its own
// schema), through pg-boss. pg-boss 10 is the newest line that runs on Node 20 (pg-boss 11/12 and
// graphile-worker 0.17+ need Node 22); it was chosen over graphile-worker for its per-job expiry: a job
// whose worker died is retried elsewhere after `jobTimeoutSeconds`, where graphile-worker 0.16 frees the
// locks of a dead worker only after four hours.
import pg from 'pg';
import PgBoss from 'pg-boss';

const JOBS_SETUP_LOCK = 736_469_003;

export const CLASSIFY = 'classify';

export interface ClassifyJob {
  sha256: string;
}

export interface JobOptions {
  /** An active job not finished by then is taken as its worker's death, and retried. */
  jobTimeoutSeconds: number;
}

export async function openJobs(url: string, o: JobOptions): Promise<PgBoss> {
  // Every query of pg-boss's pool gives up after 30 s: a query lost in a server restart would otherwise hang
  // its worker loop and its maintenance for good (seen once in a few restarts).
  const pool = { connectionTimeoutMillis: 5_000, query_timeout: 30_000 } as object;
  const boss = new PgBoss({ connectionString: url, schema: 'slidetriage_jobs', max: 2, maintenanceIntervalSeconds: Math.max(1, Math.min(60, Math.floor(o.jobTimeoutSeconds / 2))), ...pool });
  boss.on('error', () => undefined); // a lost connection is retried by pg-boss; never a crash
  // Hosts starting together would each install pg-boss's schema and queue at once, which deadlocks in
  // PostgreSQL (seen with four): one at a time, under a lock of the database's.
  const setup = new pg.Client(url);
  setup.on('error', () => undefined);
  await setup.connect();
  try {
    await setup.query('SELECT pg_advisory_lock($1)', [JOBS_SETUP_LOCK]);
    await boss.start();
    // 'short': one waiting job per slide (its singletonKey), however often it is enqueued.
    await boss.createQueue(CLASSIFY, { name: CLASSIFY, policy: 'short', retryLimit: 10, retryDelay: 1, expireInSeconds: o.jobTimeoutSeconds });
  } finally {
    await setup.end(); // ends the session, and with it the lock
  }
  return boss;
}

/** One job per slide: a slide already waiting or being classified is not enqueued again. */
export async function enqueueSlides(boss: PgBoss, sha256s: string[]): Promise<number> {
  let sent = 0;
  for (const sha256 of sha256s) if (await boss.send(CLASSIFY, { sha256 } satisfies ClassifyJob, { singletonKey: sha256 })) sent++;
  return sent;
}

/** Jobs waiting or being worked on. */
export async function queueDepth(boss: PgBoss): Promise<{ waiting: number; active: number }> {
  const waiting = await boss.getQueueSize(CLASSIFY, { before: 'active' });
  const active = (await boss.getQueueSize(CLASSIFY, { before: 'completed' })) - waiting;
  return { waiting, active };
}

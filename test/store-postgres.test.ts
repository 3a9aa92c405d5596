// The PostgreSQL store beyond the conformance suite: copying the embedded store into it, and a server
// restart in the middle of decisions.
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import fs from 'node:fs/promises';
import { openStore } from '../src/store/store.js';
import { tempDir } from './helpers.js';
import { cli } from './support/cli.js';
import { startPostgres } from './support/postgres.js';
import { addSlides } from './support/store.js';

const server = await startPostgres();
if ('error' in server && process.env.CI) throw new Error(`the PostgreSQL store's tests cannot run: ${server.error}`);
if ('error' in server) console.warn(`PostgreSQL store tests left out: ${server.error}`);
afterAll(() => {
  if (!('error' in server)) server.stop();
});
const who = { technician: 'ann', displayName: null };

describe.skipIf('error' in server)('the PostgreSQL store', () => {
  const pg = server as Exclude<typeof server, { error: string }>;

  it('store migrate --to copies the embedded store, the journal verified on both sides; a second copy is refused', async () => {
    const cwd = await tempDir();
    const local = await openStore(path.join(cwd, 'data', 'store.db'), who);
    const shas = await addSlides(local, 12);
    for (const sha of shas.slice(0, 5)) await local.decide({ sha256: sha, action: 'correct', label: 'Pro', modelId: null, predicted: null, probabilities: null });
    await local.undo(shas[0]);
    const before = await local.summary();
    await local.close();
    const url = await pg.database();
    const copied = await cli(cwd, ['store', 'migrate', '--to', url]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stdout).toMatch(/12 slides, 0 files, 0 predictions, 6 journal entries \(verified on both sides\)/);
    const remote = await openStore(url, who);
    expect(await remote.summary()).toEqual(before);
    expect(await remote.verifyJournal()).toMatchObject({ ok: true, entries: 6 });
    await remote.close();
    const again = await cli(cwd, ['store', 'migrate', '--to', url]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already holds 12 slide\(s\) and 6 decision\(s\)/);
    // The password is never taken from the configuration.
    await fs.writeFile(path.join(cwd, 'slidetriage.json'), JSON.stringify({ store: url.replace('slidetriage@', 'slidetriage:secret@') }));
    const refused = await cli(cwd, ['status']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/holds a password: leave it out of the configuration and set PGPASSWORD, or put it in ~\/\.pgpass/);
    await fs.writeFile(path.join(cwd, 'slidetriage.json'), JSON.stringify({ store: url }));
    expect((await cli(cwd, ['status'])).stdout).toMatch(/journal: 6 decisions/);
  });

  it('survives a restart of the server during decisions: no acknowledged decision is lost, the journal verifies', async () => {
    const url = await pg.database();
    const store = await openStore(url, who);
    const shas = await addSlides(store, 60);
    const acknowledged: string[] = [];
    const deciding = (async () => {
      for (const sha of shas) {
        await store.decide({ sha256: sha, action: 'confirm', label: 'Pre', modelId: null, predicted: 'Pre', probabilities: null }).then(
          () => acknowledged.push(sha),
          (err: Error) => expect(err.message).toMatch(/./), // said, not lost: a decision is either acknowledged or refused
        );
      }
    })();
    while (acknowledged.length < 10) await new Promise((r) => setTimeout(r, 5));
    pg.restart();
    await deciding;
    const reopened = await openStore(url, who);
    const decided = new Set((await reopened.journalEntries()).map((e) => e.sha256));
    for (const sha of acknowledged) expect(decided.has(sha), sha).toBe(true);
    expect(acknowledged.length).toBeGreaterThan(50); // the writes after the restart waited for it and went through
    expect(await reopened.verifyJournal()).toMatchObject({ ok: true });
    await Promise.all([store.close(), reopened.close()]);
  }, 60_000);
});

// Issue #34, items 6–11: the store fails loudly or not at all.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config.js';
import { runApp } from '../src/app.js';
import { buildRetrainRequest } from '../src/services/retrain-request.js';
import { assertStoreIntact } from '../src/store/integrity.js';
import { afterCheck, verifyInBackground } from '../src/store/verify-background.js';
import { entryHash } from '../src/store/journal.js';
import { openStore } from '../src/store/store.js';
import type { DecisionInput } from '../src/store/types.js';
import { tempDir } from './helpers.js';
import { addSlides } from './support/store.js';
import { writeLegacyStore } from './support/legacy-store.js';
import { diagnose } from '../src/store/sqlite/connection.js';
import { cli } from './support/cli.js';

const who = { technician: 'ann', displayName: null };
const WRITER = path.join(import.meta.dirname, 'scripts', 'label-writer.ts');
/** Another process (another app) decides slide i; returns the sha256 it acknowledged. */
async function otherProcessDecides(file: string, i: number): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', WRITER, file, String(i), '1']);
  return stdout.trim().replace(/^ack /, '');
}
const decision = (sha256: string, label = 'Pro'): DecisionInput => ({ sha256, action: 'correct', label, modelId: null, predicted: null, probabilities: null });

describe('a write-ahead log deleted while the store is open', () => {
  it('every decision acknowledged is in the store, and a write into the lost log is refused before it is acknowledged', async () => {
    const file = path.join(await tempDir(), 'store.db');
    const setup = await openStore(file, who);
    const slides = await addSlides(setup, 8);
    await setup.close();
    const a = await openStore(file, who);
    const acknowledged: string[] = [];
    const decide = async (store: typeof a, sha: string) => {
      await store.decide(decision(sha));
      acknowledged.push(sha);
    };
    await decide(a, slides[0]);
    await decide(a, slides[1]);
    await fs.rm(`${file}-wal`);
    await fs.rm(`${file}-shm`);
    acknowledged.push(await otherProcessDecides(file, 2));
    const refused = await decide(a, slides[3]).then(
      () => null,
      (err: Error) => err,
    );
    expect(refused?.name).toBe('StoreLostError');
    expect(refused?.message).toMatch(/store\.db-wal was (removed|replaced) while this process had the store .* open: what it writes now would be lost/);
    // And it stays refused: nothing A writes from now on could be read by anyone.
    await expect(a.decide(decision(slides[4]))).rejects.toThrow(/was (removed|replaced)/);
    acknowledged.push(await otherProcessDecides(file, 5));
    await a.close();
    const after = await openStore(file, who);
    for (const sha of acknowledged) expect(await after.decisionsOf(sha), sha).toHaveLength(1);
    expect(acknowledged).toHaveLength(4);
    expect((await after.verifyJournal()).ok).toBe(true);
    await after.close();
  });
});

/** A store in `cwd/data` with `n` slides, each decided. */
async function decidedStore(n: number) {
  const cwd = await tempDir();
  const file = path.join(cwd, 'data', 'store.db');
  const store = await openStore(file, who);
  const slides = await addSlides(store, n);
  for (const s of slides) await store.decide(decision(s));
  await store.close();
  return { cwd, file, slides };
}

const sql = (file: string, text: string) => {
  const db = new Database(file);
  try {
    db.exec(text);
  } finally {
    db.close();
  }
};

describe('a damaged journal page', () => {
  it('export, retrain and the app refuse, naming the damage', async () => {
    const { cwd, file } = await decidedStore(20);
    const db = new Database(file, { readonly: true });
    const root = db.prepare<[], number>("SELECT rootpage FROM sqlite_master WHERE name = 'journal'").pluck().get()!;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    const h = await fs.open(file, 'r+');
    await h.write(Buffer.alloc(200, 0x5a), 0, 200, root * pageSize - 200); // the last bytes of its root page: cells lie at the end of a page
    await h.close();
    const exported = await cli(cwd, ['export', '--format', 'csv', '--out', 'out']);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toMatch(/store .* is damaged, so nothing was done: the database file is damaged/);
    await expect(fs.stat(path.join(cwd, 'out', 'labels.csv'))).rejects.toThrow();
    const config = loadConfig({ cwd });
    const store = await openStore(config.store, who);
    await expect(
      buildRetrainRequest(config, store, config.model, ['Benign', 'Early', 'Pre', 'Pro'], { mode: 'head', classes: null, baseData: null, epochs: null, heldOutFraction: 0.2, seed: 1 } as never),
    ).rejects.toThrow(/is damaged, so nothing was done/);
    await store.close();
    const app = await Promise.race([
      runApp(config).then(
        () => 'started',
        (err: Error) => err.message,
      ),
      new Promise((r) => setTimeout(() => r('started'), 5000)),
    ]);
    expect(app).toMatch(/is damaged, so nothing was done/);
  });
});

describe('the journal is anchored', () => {
  it('a label changed outside the journal is found by replaying it', async () => {
    const { cwd, file, slides } = await decidedStore(3);
    sql(file, `UPDATE slides SET label = 'Benign' WHERE sha256 = '${slides[1]}'`);
    const r = await cli(cwd, ['audit', 'verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/is labelled "Benign" in the store but "Pro" by its journal — changed outside the journal/);
  });

  it('a journal rewritten with every hash recomputed and its head updated fails against the heads file and the anchor', async () => {
    const { cwd, file } = await decidedStore(4);
    const anchor = await cli(cwd, ['audit', 'anchor']);
    expect(anchor.code, anchor.stderr).toBe(0);
    const head = anchor.stdout.trim();
    expect(head).toMatch(/^4:[0-9a-f]{64}$/);
    expect((await cli(cwd, ['audit', 'verify', '--anchor', head])).code).toBe(0);
    // The forger: entry 2 says Benign, every hash after it recomputed, the slide and the head to match.
    const store = await openStore(file, who);
    const entries = await store.journalEntries();
    await store.close();
    let prev = '';
    const forged = entries.map((e) => {
      const body = { ...e, label: e.seq === 2 ? 'Benign' : e.label, prevHash: prev };
      delete (body as Partial<typeof e>).hash;
      prev = entryHash(body);
      return { ...body, hash: prev };
    });
    sql(
      file,
      'DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete; ' +
        forged.map((e) => `UPDATE journal SET label = '${e.label}', prev_hash = '${e.prevHash}', hash = '${e.hash}' WHERE seq = ${e.seq};`).join(' ') +
        `UPDATE slides SET label = 'Benign' WHERE sha256 = '${forged[1].sha256}'; UPDATE meta SET value = '4:${forged[3].hash}' WHERE key = 'journal_head';`,
    );
    const verify = await cli(cwd, ['audit', 'verify']);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/entry 2 is not the one the heads file recorded at .* — the journal was rewritten/);
    // Even with the heads file rewritten too, the head kept by the lab's notary tells.
    await fs.rm(`${file}.heads`);
    sql(file, "DELETE FROM meta WHERE key = 'heads_file'");
    const anchored = await cli(cwd, ['audit', 'verify', '--anchor', head]);
    expect(anchored.code).toBe(1);
    expect(anchored.stdout).toMatch(/entry 4 is not the one anchored .* — the journal was rewritten/);
  });

  it('an exported journal carries its head and count: lines cut off the end are found', async () => {
    const { cwd } = await decidedStore(8);
    expect((await cli(cwd, ['audit', 'export', '--file', 'j.jsonl'])).code).toBe(0);
    expect((await cli(cwd, ['audit', 'verify', '--file', 'j.jsonl'])).code).toBe(0);
    const lines = (await fs.readFile(path.join(cwd, 'j.jsonl'), 'utf8')).trimEnd().split('\n');
    // The last 5 entries cut, the closing line kept; then the closing line cut as well.
    await fs.writeFile(path.join(cwd, 'cut.jsonl'), [...lines.slice(0, 3), lines.at(-1)].join('\n') + '\n');
    const cut = await cli(cwd, ['audit', 'verify', '--file', 'cut.jsonl']);
    expect(cut.code).toBe(1);
    expect(cut.stdout).toMatch(/holds 3 entries but was exported with 8 — entries were removed/);
    await fs.writeFile(path.join(cwd, 'cut2.jsonl'), lines.slice(0, 3).join('\n') + '\n');
    const cut2 = await cli(cwd, ['audit', 'verify', '--file', 'cut2.jsonl']);
    expect(cut2.code).toBe(1);
    expect(cut2.stdout).toMatch(/no closing line with the head and count/);
  });
});

describe('store migrate', () => {
  it('a migrate that fails leaves no store.db; an empty store beside the old one is still refused', async () => {
    const cwd = await tempDir();
    const data = path.join(cwd, 'data');
    await writeLegacyStore(data, 6, 3);
    const journal = path.join(data, 'audit.jsonl');
    await fs.writeFile(journal, (await fs.readFile(journal, 'utf8')).replace('"Pro"', '"Benign"'));
    const failed = await cli(cwd, ['store', 'migrate']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/does not verify/);
    expect((await fs.readdir(data)).sort()).toEqual(['audit.jsonl', 'store.json']);
    expect((await cli(cwd, ['status'])).stderr).toMatch(/run `slidetriage store migrate`/);
    // An empty store.db, as a failed migrate of an earlier version left it.
    const empty = await openStore(path.join(data, 'store.db'), who, { migrating: true });
    await empty.close();
    const status = await cli(cwd, ['status']);
    expect(status.code).not.toBe(0);
    expect(status.stderr).toMatch(/store\.db is empty: run `slidetriage store migrate`/);
  });
});

describe('read-only commands', () => {
  it('status, audit verify, audit export and export in an empty folder create nothing and say there is no store', async () => {
    const cwd = await tempDir();
    for (const args of [['status'], ['audit', 'verify'], ['audit', 'anchor'], ['audit', 'export', '--file', 'j.jsonl'], ['export', '--format', 'csv', '--out', 'out']]) {
      const r = await cli(cwd, args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/no store at .*data\/store\.db: nothing to read/);
    }
    expect(await fs.readdir(cwd)).toEqual([]);
  });

  it('audit verify --file of a missing file fails', async () => {
    const r = await cli(await tempDir(), ['audit', 'verify', '--file', '/nonexistent/journal.jsonl']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/there is no file \/nonexistent\/journal\.jsonl/);
  });

  it('an auditor who may only read the store can run audit verify and status', async (ctx) => {
    const runuser = ['/usr/sbin/runuser', '/sbin/runuser'].find((f) => existsSync(f));
    if (process.getuid?.() !== 0 || !runuser) {
      console.warn('the read-only auditor test needs root and runuser to act as another user: skipped');
      return ctx.skip();
    }
    const { cwd, file } = await decidedStore(3);
    for (const d of [cwd, path.dirname(file)]) await fs.chmod(d, 0o755);
    for (const f of [file, `${file}.heads`]) await fs.chmod(f, 0o644);
    const bin = path.resolve('bin/slidetriage.js');
    const asAuditor = (...args: string[]) => promisify(execFile)(runuser, ['-u', 'nobody', '--', process.execPath, bin, ...args], { cwd });
    expect((await asAuditor('audit', 'verify')).stdout).toMatch(/3 entries, all hashes and links verify/);
    expect((await asAuditor('status')).stdout).toMatch(/journal: 3 decisions/);
  });

  it('audit verify changes nothing in the store', async () => {
    const { cwd, file } = await decidedStore(3);
    const before = await fs.readFile(file);
    expect((await cli(cwd, ['audit', 'verify'])).code).toBe(0);
    expect((await cli(cwd, ['status'])).code).toBe(0);
    expect((await fs.readFile(file)).equals(before)).toBe(true);
  });
});

describe('open errors are named as they are', () => {
  it('a read-only store, a full disk and a damaged file each get their own words, and only a foreign file is to be moved', () => {
    const f = '/lab/data/store.db';
    const readOnly = diagnose(f, Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' }));
    expect(readOnly.message).toMatch(/cannot be opened for writing by this user .* check the permissions .* its content is not at fault/);
    const full = diagnose(f, Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    expect(full.message).toMatch(/the disk holding the store .* is full/);
    const damaged = diagnose(f, Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }));
    expect(damaged.message).toMatch(/is damaged .* restore it from a backup.* Do not start a new store in its place/);
    for (const e of [readOnly, full, damaged]) expect(e.message).not.toMatch(/move this one away|not a slidetriage store/);
    expect(diagnose(f, Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' })).message).toMatch(/is not a slidetriage store .* move this one away/);
  });

  it('a valid store opened by a user who may not write it is not called foreign', async () => {
    const { file } = await decidedStore(2);
    await fs.chmod(file, 0o440);
    await fs.chmod(path.dirname(file), 0o550);
    try {
      const asNobody = process.getuid?.() === 0 ? ['runuser', '-u', 'nobody', '--'] : [];
      const script = `import('${path.resolve('src/store/store.js').replace(/\.js$/, '.ts')}').then(m => m.openStore('${file}')).then(() => console.log('opened'), e => console.log(e.message))`;
      const r = await promisify(execFile)(asNobody[0] ?? process.execPath, [...asNobody.slice(1), ...(asNobody.length ? [process.execPath] : []), '--import', 'tsx', '-e', script], {
        cwd: process.cwd(),
      }).catch((e) => e);
      const said = String(r.stdout ?? '');
      if (said.includes('opened')) return; // this user may write it after all (root without runuser)
      expect(said).not.toMatch(/move this one away/);
      expect(said).toMatch(/cannot be opened for writing by this user|permission/i);
    } finally {
      await fs.chmod(path.dirname(file), 0o770);
      await fs.chmod(file, 0o660);
    }
  });
});

describe('the check at start, and the whole check after it (issue #37)', () => {
  it('checks the tail since the journal last verified whole before the first frame, and the whole journal behind it', async () => {
    const { cwd, file, slides } = await decidedStore(20);
    const store = await openStore(file, who);
    expect((await store.verifyJournal()).ok).toBe(true); // marks the journal verified through entry 20
    await store.decide(decision(slides[0], 'Early')); // 21, after the mark
    await store.close();
    // An old entry (before the mark) edited in place: only the whole check reads it.
    sql(file, "DROP TRIGGER journal_no_update; UPDATE journal SET note = 'edited' WHERE seq = 3");
    const reopened = await openStore(file, who);
    expect(await reopened.verifyRecent()).toMatchObject({ ok: true, entries: 1 });
    expect((await reopened.verifyJournal()).problems).toContain('seq 3: its content does not match its hash — edited');
    await reopened.close();
    // The tail is read at start: an entry after the mark edited is found before the first frame.
    sql(file, "UPDATE journal SET note = 'edited' WHERE seq = 21");
    const again = await openStore(file, who);
    expect((await again.verifyRecent()).problems).toContain('seq 21: its content does not match its hash — edited');
    await again.close();
    // The app starts on the tail's check; the whole check runs in a worker thread, and decisions wait for it:
    // here it fails, and a decision is refused with the damage named.
    sql(file, "UPDATE journal SET note = '' WHERE seq = 21");
    const opened = await openStore(loadConfig({ cwd }).store, who);
    await assertStoreIntact(opened, { recent: true });
    const gated = afterCheck(opened, verifyInBackground(file, who));
    await expect(gated.decide(decision(slides[1]))).rejects.toThrow(/is damaged, so nothing was done: seq 3: its content does not match its hash — edited/);
    expect((await opened.decisionsOf(slides[1])).length).toBe(1); // only the one decidedStore made
    await opened.close();
  }, 60_000);

  it('lets decisions through once the whole check passes', async () => {
    const { file, slides } = await decidedStore(3);
    const store = await openStore(file, who);
    const gated = afterCheck(store, verifyInBackground(file, who));
    await gated.decide(decision(slides[0], 'Early'));
    expect((await store.decisionsOf(slides[0])).at(-1)?.label).toBe('Early');
    await store.close();
  });
});

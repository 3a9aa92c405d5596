// A throw-away PostgreSQL server for the tests: initdb and pg_ctl (Debian's postgresql package) in a
// temporary folder, on a free port, as the postgres user when the tests run as root (initdb refuses root),
// stopped at the end. Where it cannot start, the reason is returned: the tests fail with it in CI
// (CI=true) and skip with it elsewhere.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface PgServer {
  /** A new, empty database on the server: its address. */
  database(): Promise<string>;
  /** Stops the server (fast: connections are cut) and starts it again on the same port. */
  restart(): void;
  stop(): void;
}

function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const dir = versions.map((v) => path.join(root, v, 'bin')).find((d) => fs.existsSync(path.join(d, 'initdb')));
  return dir ?? null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function startPostgres(): Promise<PgServer | { error: string }> {
  const bin = binDir();
  if (!bin) return { error: 'PostgreSQL is not installed (apt-get install postgresql)' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slidetriage-pg-'));
  const root = process.getuid?.() === 0;
  const as = (cmd: string, args: string[]) => (root ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' }) : execFileSync(cmd, args, { stdio: 'pipe' }));
  const port = await freePort();
  const data = path.join(dir, 'data');
  try {
    if (root) execFileSync('chown', ['postgres:postgres', dir]);
    as(path.join(bin, 'initdb'), ['-D', data, '-U', 'slidetriage', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    as(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
  } catch (err) {
    const log = fs.existsSync(path.join(dir, 'log')) ? fs.readFileSync(path.join(dir, 'log'), 'utf8').slice(-500) : '';
    return { error: `PostgreSQL could not start: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message} ${log}` };
  }
  const admin = `postgres://slidetriage@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    async database() {
      const name = `t${process.pid}_${++n}`;
      const c = new pg.Client(admin);
      await c.connect();
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
      return `postgres://slidetriage@127.0.0.1:${port}/${name}`;
    },
    restart() {
      as(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'restart']);
    },
    stop() {
      try {
        as(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// A real terminal for tests: Xvfb, xterm with sixel (VT340 emulation) running a command, keys typed
// through XTEST (xdotool) and screenshots through xwd. Everything is Debian's: xvfb, xterm, xdotool,
// x11-apps. `missingTools()` names what is absent, so that a test can skip with a message.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readXwd, type Screenshot } from './xwd.js';

const TOOLS = ['Xvfb', 'xterm', 'xdotool', 'xwd'];

function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function missingTools(): string[] {
  return TOOLS.filter((t) => !has(t));
}

/** DejaVu Sans Mono when fontconfig has it (it draws ⚠ and the box rules), else xterm's own font. */
function fontArgs(): string[] {
  try {
    return execFileSync('fc-list', [':family=DejaVu Sans Mono'], { encoding: 'utf8' }).trim() ? ['-fa', 'DejaVu Sans Mono', '-fs', '9'] : [];
  } catch {
    return [];
  }
}

export class Xterm {
  private constructor(
    private readonly display: string,
    private readonly xvfb: ChildProcess,
    private readonly xterm: ChildProcess,
  ) {}

  /** Starts a screen and an xterm of columns × rows cells running `command` (a shell line) in cwd. */
  static async start(opts: { cwd: string; command: string; columns: number; rows: number; env?: NodeJS.ProcessEnv }): Promise<Xterm> {
    const number = 50 + (process.pid % 400);
    const display = `:${number}`;
    const xvfb = spawn('Xvfb', [display, '-screen', '0', '1280x800x24', '-wr', '-nolisten', 'tcp'], { stdio: 'ignore' });
    const socket = `/tmp/.X11-unix/X${number}`;
    for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
    if (!fs.existsSync(socket)) throw new Error(`Xvfb did not start on ${display}`);
    // allowWindowOps lets xterm answer CSI 16 t (its cell size in pixels); 256 sixel colour registers.
    const args = ['-ti', 'vt340', '-xrm', 'XTerm*numColorRegisters: 256', '-xrm', 'XTerm*allowWindowOps: true', ...fontArgs()];
    const xterm = spawn('xterm', [...args, '-geometry', `${opts.columns}x${opts.rows}+0+0`, '-e', 'sh', '-c', opts.command], {
      cwd: opts.cwd,
      env: { ...opts.env, DISPLAY: display },
      stdio: 'ignore',
    });
    return new Xterm(display, xvfb, xterm);
  }

  /** Types keys (xdotool names: Return, Escape, z) into the window under the pointer. */
  key(...keys: string[]): void {
    execFileSync('xdotool', ['mousemove', '200', '200', 'key', '--delay', '100', ...keys], { env: { ...process.env, DISPLAY: this.display } });
  }

  screenshot(): Screenshot {
    const file = path.join(os.tmpdir(), `slidetriage-xwd-${process.pid}.xwd`);
    execFileSync('sh', ['-c', `xwd -root -silent > ${file}`], { env: { ...process.env, DISPLAY: this.display } });
    try {
      return readXwd(file);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  stop(): void {
    this.xterm.kill();
    this.xvfb.kill();
  }
}

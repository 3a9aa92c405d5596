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

export type TerminalName = 'xterm' | 'kitty' | 'mlterm';

export function missingTools(terminal: TerminalName = 'xterm'): string[] {
  return [...TOOLS.filter((t) => t !== 'xterm'), terminal].filter((t) => !has(t));
}

/** The command line that opens a terminal of columns × rows cells running `command`. */
function terminalCommand(terminal: TerminalName, columns: number, rows: number, command: string, windowOps = true): string[] {
  if (terminal === 'mlterm') return ['mlterm', '-g', `${columns}x${rows}+0+0`, '-w', '14', '--bg=white', '--fg=black', '-e', 'sh', '-c', command];
  if (terminal === 'kitty') {
    const size = ['-o', `initial_window_width=${columns}c`, '-o', `initial_window_height=${rows}c`, '-o', 'remember_window_size=no'];
    return ['kitty', '--config', 'NONE', ...size, '-o', 'background=#ffffff', '-o', 'foreground=#000000', 'sh', '-c', command];
  }
  // allowWindowOps lets xterm answer CSI 16 t (its cell size in pixels); a stock xterm keeps it off.
  // 256 sixel colour registers.
  const ops = windowOps ? ['-xrm', 'XTerm*allowWindowOps: true'] : [];
  const args = ['-ti', 'vt340', '-xrm', 'XTerm*numColorRegisters: 256', ...ops, ...fontArgs()];
  return ['xterm', ...args, '-geometry', `${columns}x${rows}+0+0`, '-e', 'sh', '-c', command];
}

/** DejaVu Sans Mono when fontconfig has it (it draws ⚠ and the box rules), else xterm's own font. */
function fontArgs(): string[] {
  try {
    return execFileSync('fc-list', [':family=DejaVu Sans Mono'], { encoding: 'utf8' }).trim() ? ['-fa', 'DejaVu Sans Mono', '-fs', '9'] : [];
  } catch {
    return [];
  }
}

let started = 0;

export class XTerminal {
  private constructor(
    private readonly display: string,
    private readonly xvfb: ChildProcess,
    private readonly xterm: ChildProcess,
  ) {}

  /** Starts a screen and a terminal of columns × rows cells running `command` (a shell line) in cwd. */
  static async start(opts: {
    terminal?: TerminalName;
    cwd: string;
    command: string;
    columns: number;
    rows: number;
    env?: NodeJS.ProcessEnv;
    /** xterm's allowWindowOps (default on; off as in a stock xterm). */
    windowOps?: boolean;
  }): Promise<XTerminal> {
    // A display of its own: this process's, and another for each further terminal it starts.
    const number = 50 + (process.pid % 400) * 4 + (started++ % 4);
    const display = `:${number}`;
    const xvfb = spawn('Xvfb', [display, '-screen', '0', '1280x800x24', '-wr', '-nolisten', 'tcp'], { stdio: 'ignore' });
    const socket = `/tmp/.X11-unix/X${number}`;
    for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
    if (!fs.existsSync(socket)) throw new Error(`Xvfb did not start on ${display}`);
    const [program, ...args] = terminalCommand(opts.terminal ?? 'xterm', opts.columns, opts.rows, opts.command, opts.windowOps ?? true);
    // Kitty needs OpenGL 3.3: Mesa's software renderer gives it under Xvfb.
    const xterm = spawn(program, args, { cwd: opts.cwd, env: { ...opts.env, DISPLAY: display, LIBGL_ALWAYS_SOFTWARE: '1' }, stdio: 'ignore' });
    return new XTerminal(display, xvfb, xterm);
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

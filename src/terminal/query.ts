// Asks the terminal what it can draw, before Ink takes the keyboard: the queries go out together and the
// replies are read until device attributes (which every terminal answers, last) or a timeout.
import { execFileSync } from 'node:child_process';
import { chooseGraphics, type Graphics, type ImageSetting } from './detect.js';
import { parseReplies, QUERIES, repliesComplete, type TerminalReplies } from './replies.js';
import { insideTmux, passthroughAllowed, wrapPassthrough } from './tmux.js';

export async function queryTerminal(stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream, opts: { tmux: boolean; timeoutMs: number }): Promise<TerminalReplies | null> {
  if (!stdin.isTTY || !stdout.isTTY || typeof stdin.setRawMode !== 'function') return null;
  const kitty = opts.tmux ? wrapPassthrough(QUERIES.kittyGraphics) : QUERIES.kittyGraphics;
  const wasRaw = stdin.isRaw;
  stdin.setRawMode(true);
  let text = '';
  try {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, opts.timeoutMs);
      // Read as Ink does ('readable', not 'data'): a stream switched to flowing mode does not give Ink its keys.
      function onReadable() {
        for (let chunk = stdin.read(); chunk !== null; chunk = stdin.read()) text += Buffer.from(chunk).toString('latin1');
        if (repliesComplete(text)) done();
      }
      function done() {
        clearTimeout(timer);
        stdin.off('readable', onReadable);
        resolve();
      }
      stdin.on('readable', onReadable);
      stdout.write(kitty + QUERIES.version + QUERIES.cell + QUERIES.window + QUERIES.da1);
    });
  } finally {
    stdin.setRawMode(wasRaw);
  }
  return text ? parseReplies(text) : null;
}

/** The outer terminal's TERM as tmux knows it, when a client is attached. */
function tmuxOuterTerm(): string | null {
  try {
    return execFileSync('tmux', ['display-message', '-p', '#{client_termname}'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

/** The graphics this terminal gets, by the setting, the terminal's answers and its environment. */
export async function detectGraphics(
  setting: ImageSetting,
  cellPixels: string | null = null,
  stdin: NodeJS.ReadStream = process.stdin,
  stdout: NodeJS.WriteStream = process.stdout,
  env = process.env,
): Promise<Graphics> {
  const tmux = insideTmux(env) ? { passthrough: passthroughAllowed(env), outerTerm: tmuxOuterTerm() } : null;
  const ask = setting !== 'blocks';
  const replies = ask ? await queryTerminal(stdin, stdout, { tmux: !!tmux?.passthrough, timeoutMs: 400 }) : null;
  return chooseGraphics({ setting, env, replies, tmux, columns: stdout.columns ?? 80, rows: stdout.rows ?? 24, cellPixels });
}

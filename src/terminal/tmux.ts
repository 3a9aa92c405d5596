// Inside tmux an image escape reaches the outer terminal only wrapped in tmux's passthrough (DCS tmux;
// … ST, each ESC doubled), and only when the pane allows it (tmux ≥ 3.3: `set -g allow-passthrough on`).
import { execFileSync } from 'node:child_process';

export function insideTmux(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env.TMUX;
}

export function wrapPassthrough(sequence: string): string {
  return `\u001bPtmux;${sequence.replaceAll('\u001b', '\u001b\u001b')}\u001b\\`;
}

/** Whether this pane lets escapes through: true, false, or null when tmux cannot be asked. */
export function passthroughAllowed(env: NodeJS.ProcessEnv = process.env): boolean | null {
  try {
    const target = env.TMUX_PANE ? ['-t', env.TMUX_PANE] : [];
    const value = execFileSync('tmux', ['show-options', '-Apv', ...target, 'allow-passthrough'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
    return /^(on|all)$/m.test(value.trim());
  } catch {
    return null;
  }
}

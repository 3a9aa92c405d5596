// Which image protocol and colour depth this terminal has, worked out once before the app draws: the
// configured setting first, then what the terminal answers to queries, then TERM/TERM_PROGRAM hints.
// The reason is kept and shown, so that a technician who sees half-blocks knows why.
import { kittyVersion, type TerminalReplies } from './replies.js';

export const IMAGE_SETTINGS = ['auto', 'kitty', 'iterm', 'sixel', 'blocks'] as const;
export type ImageSetting = (typeof IMAGE_SETTINGS)[number];
export type ImageProtocol = Exclude<ImageSetting, 'auto'>;
export type ColourDepth = 'truecolor' | '256' | 'none';

export interface Graphics {
  protocol: ImageProtocol;
  colour: ColourDepth;
  /** One cell in pixels, when the terminal said; null: not known (kitty and iTerm2 scale to cells anyway). */
  cell: { width: number; height: number } | null;
  /** Image escapes go through tmux's passthrough. */
  passthrough: boolean;
  /** Why this protocol, in a line. */
  reason: string;
}

export interface DetectionInput {
  setting: ImageSetting;
  env: NodeJS.ProcessEnv;
  replies: TerminalReplies | null;
  /** Inside tmux: whether allow-passthrough is on (null: could not ask). */
  tmux: { passthrough: boolean | null; outerTerm: string | null } | null;
  columns: number;
  rows: number;
  /** display.cellPixels, "WxH": the cell size when the terminal does not say it. */
  cellPixels?: string | null;
}

/** Kitty's Unicode placeholders came in kitty 0.28.0. */
const KITTY_PLACEHOLDERS = [0, 28, 0];

export function colourDepth(env: NodeJS.ProcessEnv): ColourDepth {
  if (env.NO_COLOR || env.TERM === 'dumb') return 'none';
  return /^(truecolor|24bit)$/i.test(env.COLORTERM ?? '') ? 'truecolor' : '256';
}

/** The protocol that TERM / TERM_PROGRAM suggest, or null. */
export function hintedProtocol(env: NodeJS.ProcessEnv, outerTerm: string | null = null): ImageProtocol | null {
  const term = outerTerm ?? env.TERM ?? '';
  const program = env.TERM_PROGRAM ?? '';
  if (term === 'xterm-kitty' || term === 'xterm-ghostty' || program === 'ghostty' || env.KITTY_WINDOW_ID) return 'kitty';
  if (program === 'iTerm.app' || program === 'WezTerm' || term === 'wezterm') return 'iterm';
  if (/^(foot|mlterm)/.test(term) || env.WT_SESSION) return 'sixel';
  return null;
}

/** The cell in pixels: as the terminal says it (CSI 16 t), or its text area (CSI 14 t) over its cells, or as configured. */
function cellSize(input: DetectionInput): Graphics['cell'] {
  const r = input.replies;
  if (r?.cell) return r.cell;
  if (r?.window && input.columns > 0 && input.rows > 0) return { width: Math.floor(r.window.width / input.columns), height: Math.floor(r.window.height / input.rows) };
  const configured = /^(\d+)x(\d+)$/.exec(input.cellPixels ?? '');
  return configured ? { width: Number(configured[1]), height: Number(configured[2]) } : null;
}

function olderThan(version: number[], than: number[]): boolean {
  for (let i = 0; i < than.length; i++) if ((version[i] ?? 0) !== than[i]) return (version[i] ?? 0) < than[i];
  return false;
}

/** The protocol from what the terminal answered, or null with nothing said. */
function answeredProtocol(input: DetectionInput): { protocol: ImageProtocol; reason: string } | null {
  const r = input.replies;
  if (!r) return null;
  const kitty = kittyVersion(r.version);
  if (r.kittyGraphics && kitty && olderThan(kitty, KITTY_PLACEHOLDERS)) return { protocol: 'blocks', reason: `${r.version} has no Unicode placeholders (kitty 0.28+)` };
  if (r.kittyGraphics) return { protocol: 'kitty', reason: `the terminal${r.version ? ` (${r.version})` : ''} answered the kitty graphics query` };
  if (r.da1?.includes(4)) return { protocol: 'sixel', reason: `the terminal${r.version ? ` (${r.version})` : ''} lists sixel in its device attributes` };
  return null;
}

export function chooseGraphics(input: DetectionInput): Graphics {
  const colour = colourDepth(input.env);
  const cell = cellSize(input);
  const passthrough = !!input.tmux?.passthrough;
  const made = (protocol: ImageProtocol, reason: string): Graphics => {
    if (protocol === 'sixel' && !cell) {
      const how = 'set display.cellPixels (e.g. "9x18"), or allow window operations (xterm: allowWindowOps)';
      return { protocol: 'blocks', colour, cell, passthrough, reason: `${reason}, but it did not say its cell size in pixels (CSI 16 t, 14 t): ${how}` };
    }
    return { protocol, colour, cell, passthrough: passthrough && protocol !== 'blocks', reason };
  };
  if (colour === 'none') return { protocol: 'blocks', colour, cell, passthrough: false, reason: 'no colour (NO_COLOR or TERM=dumb): images are not drawn' };
  if (input.setting !== 'auto') return made(input.setting, `display.images is ${input.setting}`);
  const answered = answeredProtocol(input);
  // tmux answers device attributes itself: sixel there is tmux's own (3.4+), drawn without passthrough.
  if (input.tmux && answered?.protocol === 'sixel') return { ...made('sixel', `tmux ${answered.reason.replace(/^the terminal /, '')}`), passthrough: false };
  if (input.tmux && !input.tmux.passthrough) {
    const hint = answered?.protocol ?? hintedProtocol(input.env, input.tmux.outerTerm);
    const off = 'inside tmux with allow-passthrough off';
    const how = '`tmux set -g allow-passthrough on` gives real pixels';
    return { protocol: 'blocks', colour, cell, passthrough: false, reason: hint ? `${off}: ${how} (${hint})` : `${off}: ${how} where the terminal has them` };
  }
  if (answered) return made(answered.protocol, answered.reason);
  const hint = hintedProtocol(input.env, input.tmux?.outerTerm ?? null);
  if (hint) return made(hint, `TERM/TERM_PROGRAM suggest ${hint}`);
  return made('blocks', 'the terminal offers no image protocol that was asked for');
}

// The one sanitiser for text that did not come from us (file names, notes, display names, class names, paths in
// error messages) on its way to a terminal or a CSV. A terminal obeys control characters wherever they appear:
// a file named `\e]52;c;…\a.jpg` would write into the technician's clipboard (OSC 52), `\e[2J` clears the
// screen, and the 8-bit C1 forms (U+009B is CSI) do the same in terminals that honour them. So every control
// character is shown as its escape (`\x1b`), never sent, and so are the bidirectional overrides that make a
// name read as another (`\u202e`).

/* eslint-disable no-control-regex -- control characters are exactly what this module finds */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

function escapeOf(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** An untrusted string, one line, every control character shown as its escape (a newline too: a name is one line). */
export function visible(text: string): string {
  return text.replace(CONTROL, escapeOf);
}

/**
 * Whole lines of our own output (which may hold untrusted parts): newlines and tabs stay, every other control
 * character is shown. The net under `visible`, for output channels that never carry escapes of their own.
 */
export function visibleLines(text: string): string {
  return text.replace(CONTROL_BUT_LINES, escapeOf);
}

/** JSON for a terminal: JSON.stringify escapes C0 but not C1 or the bidirectional overrides. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One CSV field, made visible (so never a line break), quoted when it holds a separator or a quote. */
export function csvField(value: string | null | undefined): string {
  const text = visible(value ?? '');
  return /[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const ESC = '\u001b';

/**
 * A frame of the app's UI as Ink writes it, on its way to the terminal. Ink itself writes only CSI sequences
 * (colours, cursor moves, erasing, synchronized updates); any other escape (OSC, DCS, APC, PM, SOS), BEL or C1
 * character in a frame came from data and is shown instead of obeyed. Text is already made visible by the
 * screens; this is the net under them.
 */
export function safeFrame(frame: string): string {
  if (!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(frame)) return frame;
  let out = '';
  for (let i = 0; i < frame.length; i++) {
    const c = frame[i]!;
    if (c === ESC && frame[i + 1] === '[') {
      const m = /^\u001b\[[0-?]*[ -/]*[@-~]/.exec(frame.slice(i, i + 64));
      if (m) {
        out += m[0];
        i += m[0].length - 1;
        continue;
      }
    }
    out += c === '\n' || c === '\r' || c === '\t' ? c : c.replace(CONTROL, escapeOf);
  }
  return out;
}

// Every key the app answers to, in one table: the help screen and the footer hints are generated from it.
export type Context = 'global' | 'queue' | 'slide' | 'zoom' | 'note' | 'retrain' | 'benchmarks' | 'help';

export interface KeyBinding {
  /** What the user presses, as shown in the help. */
  label: string;
  action: string;
  context: Context;
  description: string;
  /** Matches an Ink useInput call. */
  match(input: string, key: InkKey): boolean;
}

/** The subset of Ink's Key that the bindings look at. */
export interface InkKey {
  upArrow: boolean;
  downArrow: boolean;
  leftArrow: boolean;
  rightArrow: boolean;
  return: boolean;
  escape: boolean;
  tab: boolean;
  ctrl: boolean;
  backspace?: boolean;
  delete?: boolean;
  meta?: boolean;
}

const char = (c: string) => (input: string, key: InkKey) => input === c && !key.ctrl;

export const KEYMAP = [
  { label: '?', action: 'help', context: 'global', description: 'show or hide this list of keys', match: char('?') },
  { label: 'g', action: 'go-queue', context: 'global', description: 'the queue of slides', match: char('g') },
  { label: 'R', action: 'go-retrain', context: 'global', description: 'the retrain screen', match: char('R') },
  { label: 'B', action: 'go-benchmarks', context: 'global', description: 'the benchmarks screen', match: char('B') },
  { label: 'q', action: 'quit', context: 'global', description: 'quit (every decision is already saved)', match: char('q') },
  { label: 'Ctrl-C', action: 'quit', context: 'global', description: 'quit, as q', match: (i, k) => k.ctrl && i === 'c' },

  { label: '↑ k', action: 'up', context: 'queue', description: 'previous slide in the list', match: (i, k) => k.upArrow || i === 'k' },
  { label: '↓ j', action: 'down', context: 'queue', description: 'next slide in the list', match: (i, k) => k.downArrow || i === 'j' },
  { label: 'Enter', action: 'open', context: 'queue', description: 'review the selected slide (asks first when another technician has it open)', match: (_, k) => k.return },
  { label: 'y', action: 'open-anyway', context: 'queue', description: 'yes: open the slide although another technician has it open', match: char('y') },
  { label: 'o', action: 'sort', context: 'queue', description: 'sort by uncertainty (smallest margin first) or by arrival', match: char('o') },
  { label: 'f', action: 'filter-state', context: 'queue', description: 'filter by state: to review, labelled, rejected, all', match: char('f') },
  { label: 'l', action: 'filter-label', context: 'queue', description: 'filter by predicted label', match: char('l') },
  { label: 'c', action: 'copy-samples', context: 'queue', description: 'copy the bundled sample images into the incoming folder', match: char('c') },

  { label: '1–9', action: 'set-class', context: 'slide', description: 'set the class (corrects the prediction)', match: (i) => /^[1-9]$/.test(i) },
  { label: 'Enter', action: 'confirm', context: 'slide', description: 'confirm the predicted class', match: (_, k) => k.return },
  { label: 'n', action: 'note', context: 'slide', description: 'add a note to the next decision', match: char('n') },
  { label: 'u', action: 'undo', context: 'slide', description: 'undo the last decision on this slide (on a slide without one: the decision just made, going back to it)', match: char('u') },
  { label: 's', action: 'skip', context: 'slide', description: 'skip to the next slide without deciding', match: char('s') },
  { label: '[', action: 'previous', context: 'slide', description: 'previous slide', match: char('[') },
  { label: ']', action: 'next', context: 'slide', description: 'next slide', match: char(']') },
  { label: 'x', action: 'explain-more', context: 'slide', description: 'run the methods of explain.methods the slide does not show yet (LIME and Integrated Gradients; slower)', match: char('x') },
  { label: 'v', action: 'layout', context: 'slide', description: 'one map large with thumbnails, or all side by side', match: char('v') },
  { label: 'Tab', action: 'next-map', context: 'slide', description: 'the next map large', match: (_, k) => k.tab },
  { label: 'c', action: 'next-cell', context: 'slide', description: 'the next cell under the map: its crop at 2×, its box in the zoom', match: char('c') },
  { label: 'z', action: 'zoom', context: 'slide', description: 'zoom: the slide and its maps as large as the terminal allows', match: char('z') },
  { label: 'Esc', action: 'back', context: 'slide', description: 'back to the queue (cancels a running explanation)', match: (_, k) => k.escape },

  { label: 'Tab', action: 'next-map', context: 'zoom', description: 'the next map (LayerCAM, Grad-CAM, CAM, LIME, IG: those computed)', match: (_, k) => k.tab },
  { label: 'm', action: 'map-off-on', context: 'zoom', description: 'the map over the slide off, or back on', match: char('m') },
  { label: '+', action: 'opacity-up', context: 'zoom', description: "the map's opacity up a quarter", match: (i) => i === '+' || i === '=' },
  { label: '-', action: 'opacity-down', context: 'zoom', description: "the map's opacity down a quarter", match: char('-') },
  { label: 'z Esc', action: 'unzoom', context: 'zoom', description: 'back to the slide', match: (i, k) => k.escape || i === 'z' },

  { label: 'r', action: 'retrain-start', context: 'retrain', description: 'retrain from the confirmed labels (a new version; the current model stays)', match: char('r') },
  { label: 'a', action: 'adapt-start', context: 'retrain', description: 'adapt to this lab from its own slides, no labels needed (colour; what counts as unusual): a new version', match: char('a') },
  { label: 'm', action: 'retrain-mode', context: 'retrain', description: 'mode: head only on cached features (fast) or every layer', match: char('m') },
  { label: '↑ k', action: 'version-up', context: 'retrain', description: 'previous model version', match: (i, k) => k.upArrow || i === 'k' },
  { label: '↓ j', action: 'version-down', context: 'retrain', description: 'next model version', match: (i, k) => k.downArrow || i === 'j' },
  { label: 'p', action: 'promote', context: 'retrain', description: 'make the selected version current (asks to confirm with y)', match: char('p') },
  { label: 'y', action: 'promote-yes', context: 'retrain', description: 'yes: promote or roll back to the selected version', match: char('y') },
  { label: 'Esc', action: 'retrain-cancel', context: 'retrain', description: 'cancel the running retraining, or the promotion question', match: (_, k) => k.escape },

  { label: 'e', action: 'evaluate-versions', context: 'benchmarks', description: 'score every saved model version on the confirmed labels', match: char('e') },

  { label: '↑ k', action: 'scroll-up', context: 'benchmarks', description: 'scroll up a line', match: (i, k) => k.upArrow || i === 'k' },
  { label: '↓ j', action: 'scroll-down', context: 'benchmarks', description: 'scroll down a line', match: (i, k) => k.downArrow || i === 'j' },
  { label: 'Space', action: 'scroll-page', context: 'benchmarks', description: 'next page', match: char(' ') },

  { label: '↑ k', action: 'scroll-up', context: 'help', description: 'scroll this list up', match: (i, k) => k.upArrow || i === 'k' },
  { label: '↓ j', action: 'scroll-down', context: 'help', description: 'scroll this list down', match: (i, k) => k.downArrow || i === 'j' },
  { label: 'Space', action: 'scroll-page', context: 'help', description: 'next page of this list', match: char(' ') },
  { label: 'Esc', action: 'help', context: 'help', description: 'close this list', match: (_, k) => k.escape },

  { label: 'Enter', action: 'save-note', context: 'note', description: 'keep the note', match: (_, k) => k.return },
  { label: 'Esc', action: 'cancel-note', context: 'note', description: 'drop the note', match: (_, k) => k.escape },
  { label: 'Ctrl-C', action: 'quit', context: 'note', description: 'quit (asks first: the note is not kept yet)', match: (i: string, k: InkKey) => k.ctrl && i === 'c' },
] as const satisfies readonly KeyBinding[];

/** Every action a key can ask for; src/app/keys/ has a handler for each (the type checker sees to it). */
export type Action = (typeof KEYMAP)[number]['action'];

/** The action for a key in a context; screen bindings win over global ones. */
export function actionFor(context: Context, input: string, key: InkKey): Action | undefined {
  const local = KEYMAP.find((b) => b.context === context && b.match(input, key));
  if (local || context === 'note') return local?.action;
  return KEYMAP.find((b) => b.context === 'global' && b.match(input, key))?.action;
}

export function bindingsFor(context: Context): readonly KeyBinding[] {
  return KEYMAP.filter((b) => b.context === context);
}

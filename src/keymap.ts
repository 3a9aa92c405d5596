// Every key the app answers to, in one table: the help screen is generated from it.
export interface KeyBinding {
  key: string;
  action: string;
  description: string;
}

export const KEYMAP: readonly KeyBinding[] = [
  { key: '?', action: 'help', description: 'show or hide the list of keys' },
  { key: 'q', action: 'quit', description: 'quit' },
];

export function actionFor(input: string): string | undefined {
  return KEYMAP.find((k) => k.key === input)?.action;
}

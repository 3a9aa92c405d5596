import React from 'react';
import { Text, useStdout } from 'ink';
import { bindingsFor, type Context } from '../keymap.js';
import { fitItems } from '../core/fit-items.js';

/** One line of the keys that matter on this screen, from the keymap, cut by whole keys; `? keys` stays. */
export function KeyHints({ context, only }: { context: Context; only?: string[] }) {
  const { stdout } = useStdout();
  const hints = bindingsFor(context)
    .filter((b) => !only || only.includes(b.action))
    .map((b) => `${b.label} ${b.action.replace(/-/g, ' ')}`);
  // While a note is typed, ? and q are text. The screens pad a column each side.
  const always = context === 'note' ? [] : ['? keys', 'q quit'];
  return (
    <Text dimColor wrap="truncate-end">
      {fitItems(hints, (stdout.columns || 80) - 2, always)}
    </Text>
  );
}

import React from 'react';
import { Text } from 'ink';
import { bindingsFor, type Context } from '../keymap.js';

/** One line of the keys that matter on this screen, from the keymap. */
export function KeyHints({ context, only }: { context: Context; only?: string[] }) {
  const hints = bindingsFor(context)
    .filter((b) => !only || only.includes(b.action))
    .map((b) => `${b.label} ${b.action.replace(/-/g, ' ')}`);
  return (
    <Text dimColor wrap="truncate-end">
      {/* While a note is typed, ? and q are text. */}
      {[...hints, ...(context === 'note' ? [] : ['? keys', 'q quit'])].join(' · ')}
    </Text>
  );
}

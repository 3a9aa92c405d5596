// The lines under a screen: the question before quitting with a note waiting, the engine's latest
// warning, and the store's.
import React from 'react';
import { Text } from 'ink';
import { visible } from '../core/safe-text.js';

export function Notices({ quit, engineWarning, warning }: { quit: { slide: string; note: string; key: string } | null; engineWarning: string | null; warning: string | null }) {
  return (
    <>
      {quit ? (
        <Text color="yellow">
          A note waits for the decision on {visible(quit.slide)} (&quot;{visible(quit.note)}&quot;): decide that slide, or press {quit.key} again to quit without the note.
        </Text>
      ) : null}
      {engineWarning ? (
        <Text color="yellow" wrap="truncate-end">
          engine: {visible(engineWarning)}
        </Text>
      ) : null}
      {warning ? (
        <Text color="yellow" wrap="truncate-end">
          warning: {visible(warning)}
        </Text>
      ) : null}
    </>
  );
}

// The interactive app: Ink on the terminal, the engine in its worker thread.
import fs from 'node:fs/promises';
import os from 'node:os';
import React, { useEffect, useState } from 'react';
import { Box, render, useApp, useInput, useStdin } from 'ink';
import type { Config } from './config.js';
import { EngineClient } from './engine/client.js';
import { EngineProvider } from './contexts/EngineContext.js';
import { hasImageExtension } from './ingest/image.js';
import { expandPaths } from './headless/files.js';
import { actionFor } from './keymap.js';
import { HomeScreen } from './screens/HomeScreen.js';
import { StatusBar } from './components/StatusBar.js';

function Keys({ onAction }: { onAction: (action: string) => void }) {
  useInput((input) => {
    const action = actionFor(input);
    if (action) onAction(action);
  });
  return null;
}

export function App({ config, technician }: { config: Config; technician: string }) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const [showHelp, setShowHelp] = useState(false);
  const [imageCount, setImageCount] = useState<number | null>(null);
  useEffect(() => {
    let live = true;
    (async () => {
      await fs.mkdir(config.incoming, { recursive: true });
      const { files } = await expandPaths([config.incoming]);
      if (live) setImageCount(files.filter((f) => hasImageExtension(f, config.images.extensions)).length);
    })().catch(() => live && setImageCount(0));
    return () => {
      live = false;
    };
  }, [config]);
  const onAction = (action: string) => {
    if (action === 'quit') exit();
    if (action === 'help') setShowHelp((s) => !s);
  };
  return (
    <Box flexDirection="column">
      {/* useInput needs a TTY on stdin: without one the app shows its state and is stopped with Ctrl-C. */}
      {isRawModeSupported && <Keys onAction={onAction} />}
      <HomeScreen incoming={config.incoming} imageCount={imageCount} showHelp={showHelp} />
      <StatusBar technician={technician} incoming={config.incoming} />
    </Box>
  );
}

export async function runApp(config: Config): Promise<number> {
  const technician = os.userInfo().username;
  const client = new EngineClient();
  const instance = render(
    <EngineProvider config={config} client={client}>
      <App config={config} technician={technician} />
    </EngineProvider>,
  );
  await instance.waitUntilExit();
  await client.close();
  return 0;
}

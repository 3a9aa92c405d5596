import React from 'react';
import { render } from 'ink-testing-library';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../src/app.js';
import { EngineProvider } from '../src/contexts/EngineContext.js';
import { EngineClient } from '../src/engine/client.js';
import { loadConfig } from '../src/config.js';
import { makeBundle, tempDir } from './helpers.js';

const clients: EngineClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});
beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

async function waitFor(frame: () => string | undefined, text: RegExp, ms = 20_000): Promise<string> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const f = frame() ?? '';
    if (text.test(f)) return f;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${text}; last frame:\n${frame()}`);
}

describe('the app shell', () => {
  it('shows the watched folder, the model and the backend', async () => {
    const cwd = await tempDir();
    const model = await tempDir();
    await makeBundle(model, { size: 32 });
    const config = loadConfig({ cwd, overrides: { model, backend: 'wasm' } });
    const client = new EngineClient();
    clients.push(client);
    const { lastFrame, unmount } = render(
      <EngineProvider config={config} client={client}>
        <App config={config} technician="alice" />
      </EngineProvider>,
    );
    const frame = await waitFor(lastFrame, /Model test-untrained@/);
    expect(frame).toContain(config.incoming.slice(-20));
    expect(frame).toMatch(/0 image file\(s\) present/);
    expect(await waitFor(lastFrame, /backend wasm/)).toMatch(/alice · backend wasm · model test-untrained@/);
    unmount();
  });

  it('says clearly when there is no model', async () => {
    const cwd = await tempDir();
    const config = loadConfig({ cwd, overrides: { model: `${cwd}/missing-model`, backend: 'wasm' } });
    const client = new EngineClient();
    clients.push(client);
    const { lastFrame, unmount } = render(
      <EngineProvider config={config} client={client}>
        <App config={config} technician="bob" />
      </EngineProvider>,
    );
    expect(await waitFor(lastFrame, /No model could be loaded/)).toMatch(/manifest\.json: missing/);
    unmount();
  });
});

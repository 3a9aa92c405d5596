import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, overridesFromPairs, PACKAGE_ROOT } from '../src/config.js';
import { tempDir } from './helpers.js';

describe('configuration', () => {
  it('loads the defaults, resolving the default model inside the package', async () => {
    const cwd = await tempDir();
    const cfg = loadConfig({ cwd });
    expect(cfg.model).toBe(path.join(PACKAGE_ROOT, 'models', 'default'));
    expect(cfg.shippedModels).toEqual([path.join(PACKAGE_ROOT, 'models', 'from-scratch-b0'), path.join(PACKAGE_ROOT, 'models', 'whole-field')]);
    expect(cfg.incoming).toBe(path.join(cwd, 'incoming'));
    expect(cfg.images.maxPixels).toBe(64_000_000);
    expect(cfg.backend).toBe('auto');
  });

  it('lets a user file and then flags override, deeply', async () => {
    const cwd = await tempDir();
    await fs.writeFile(path.join(cwd, 'slidetriage.json'), JSON.stringify({ backend: 'cpu', images: { maxPixels: 1000 } }));
    const cfg = loadConfig({ cwd, overrides: overridesFromPairs(['images.resize=letterbox', 'explain.lime.samples=50']) });
    expect(cfg.backend).toBe('cpu');
    expect(cfg.images.maxPixels).toBe(1000);
    expect(cfg.images.resize).toBe('letterbox');
    expect(cfg.images.extensions).toContain('bmp');
    expect(cfg.explain.lime.samples).toBe(50);
  });

  it('names the field and what is allowed when a value is invalid', async () => {
    const cwd = await tempDir();
    const attempt = (pairs: string[]) => {
      try {
        loadConfig({ cwd, overrides: overridesFromPairs(pairs) });
      } catch (err) {
        return err as Error;
      }
      throw new Error('accepted');
    };
    const bad = attempt(['backend=gpu']);
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad.message).toMatch(/backend/);
    expect(bad.message).toMatch(/tensorflow-gpu/);
    expect(attempt(['images.maxPixels=-5']).message).toMatch(/images\.maxPixels/);
    expect(attempt(['colour=red']).message).toMatch(/colour/);
    expect(() => overridesFromPairs(['novalue'])).toThrow(ConfigError);
  });

  it('reports a user file that is not JSON', async () => {
    const cwd = await tempDir();
    await fs.writeFile(path.join(cwd, 'mine.json'), '{ nope');
    expect(() => loadConfig({ cwd, file: 'mine.json' })).toThrow(/not valid JSON/);
    expect(() => loadConfig({ cwd, file: 'absent.json' })).toThrow(/cannot read/);
  });

  it('refuses prototype keys in --set and in a configuration file, and pollutes nothing', async () => {
    const cwd = await tempDir();
    for (const pair of ['__proto__.polluted=1', 'images.__proto__.polluted=1', 'constructor.prototype.polluted=1', 'images={"__proto__":{"polluted":1}}']) {
      expect(() => loadConfig({ cwd, overrides: overridesFromPairs([pair]) }), pair).toThrow(/not a configuration key/);
    }
    await fs.writeFile(path.join(cwd, 'slidetriage.json'), '{"__proto__": {"polluted": 1}, "images": {"maxPixels": 1000}}');
    expect(() => loadConfig({ cwd })).toThrow(/"__proto__" is not a configuration key/);
    await fs.writeFile(path.join(cwd, 'slidetriage.json'), '{"images": {"constructor": {"prototype": {"polluted": 1}}}}');
    expect(() => loadConfig({ cwd })).toThrow(/"images.constructor" is not a configuration key/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

// The commands' declarations are the one place flags live: the defaults help shows are the trainer's,
// the README's and docs/commands.md's lists are the generated ones, a flag of another command is refused,
// and help lists what it once left out.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TRAIN_FLAGS } from '../src/headless/train-flags.js';
import { TRAIN_DEFAULTS } from '../src/engine/train/options.js';
import { usage } from '../src/commands/help.js';
import { LISTS, withList } from '../scripts/gen-commands.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

/** A train flag's default in TRAIN_DEFAULTS, written as help writes it. */
function trainerDefault(flag: string): string | undefined {
  const d = TRAIN_DEFAULTS as unknown as Record<string, unknown>;
  const onOff = (v: unknown) => (v ? 'on' : 'off');
  const special: Record<string, () => unknown> = {
    'recalibrate-bn': () => d.recalibrateBatches,
    'prior-correction': () => onOff(d.priorCorrection),
    ood: () => onOff(d.ood),
    augment: () => `${TRAIN_DEFAULTS.augment.flips ? 'flips,' : ''}${TRAIN_DEFAULTS.augment.rot90 ? 'rot90,' : ''}jitter=${TRAIN_DEFAULTS.augment.colorJitter}`,
    pooling: () => TRAIN_DEFAULTS.head.pooling,
    dense: () => TRAIN_DEFAULTS.head.denseUnits,
    dropout: () => TRAIN_DEFAULTS.head.dropout,
  };
  const camel = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const v = special[flag] ? special[flag]() : d[camel];
  return v === undefined || v === null ? undefined : String(v);
}

describe('npm start', () => {
  it('prints no npm warning before the app (issue #36: .npmrc’s key for onnxruntime-node)', async () => {
    const { stdout, stderr } = await run('npm', ['start', '--', '--help'], { cwd: ROOT });
    expect(stdout).toMatch(/Usage:/);
    expect(stderr).not.toMatch(/npm warn/i);
  });
});

describe('declared commands', () => {
  it('train’s help gives the trainer’s own defaults', () => {
    const stated = Object.entries(TRAIN_FLAGS).filter(([, f]) => 'default' in f);
    expect(stated.length).toBeGreaterThan(25);
    for (const [flag, f] of stated) expect(`--${flag} ${(f as { default: string }).default}`).toBe(`--${flag} ${trainerDefault(flag)}`);
  });

  it('the README and docs/commands.md hold the lists made from the declarations', () => {
    for (const { file, list } of LISTS) {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      expect(withList(text, list()), `${file}: run npm run gen:commands`).toBe(text);
    }
  });

  it('the README stays a front page (≤ 12 KB): the details live in docs/', () => {
    expect(fs.statSync(path.join(ROOT, 'README.md')).size).toBeLessThanOrEqual(12 * 1024);
  });

  it('help lists what the hand-written text had left out', () => {
    const text = usage();
    for (const s of ['models [list|evaluate', '--quiet', '--name', '--preprocessing', '--checkpoint-minutes', '--max-steps', 'bench-engine']) expect(text).toContain(s);
  });

  it('refuses a flag that belongs to another command, with exit 2 and that command’s help', async () => {
    const err = await run(process.execPath, ['bin/slidetriage.js', 'status', '--epochs', '3'], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/--epochs is not a flag of status[\s\S]*slidetriage status\n/);
  });
});

describe('the explanation methods’ table', () => {
  it('the engine has a method for every name, under that name', async () => {
    const { METHODS } = await import('../src/engine/explain/index.js');
    const { METHOD_NAMES } = await import('../src/core/explanation-methods.js');
    expect(Object.keys(METHODS).sort()).toEqual([...METHOD_NAMES].sort());
    for (const [key, m] of Object.entries(METHODS)) expect(m.name).toBe(key);
  });

  it('the configuration takes the table’s names, and only the fast ones for every slide', async () => {
    const { configSchema, loadConfig } = await import('../src/config.js');
    const config = loadConfig({ overrides: {} });
    expect(configSchema.safeParse({ ...config, explain: { ...config.explain, slideMethods: ['layercam56', 'cam'] } }).success).toBe(true);
    const slow = configSchema.safeParse({ ...config, explain: { ...config.explain, slideMethods: ['lime'] } });
    expect(slow.success).toBe(false);
    expect(JSON.stringify(slow.error?.issues)).toMatch(/too slow for every slide/);
  });
});

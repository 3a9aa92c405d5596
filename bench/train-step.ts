// bench:train-step — one training step (forward, backward, Adamax) per image for EfficientNet-B0 and
// Lite0 with the paper's head, at 224 px, batch 16: on tfjs-wasm, on ONNX Runtime (the exported training
// graph), and on PyTorch where Debian's python3-torch is installed (bench/torch-train-step.py, a reference
// only: nothing else needs Python). Each row runs in a process of its own, so its peak memory is its own.
// SIZE, BATCH, MICRO (images a pass), STEPS and VARIANTS (comma-separated) change the run; BN=frozen
// holds batch norm. Each time is the fastest of STEPS steps: this machine's neighbours make the others noisy.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const size = Number(process.env.SIZE ?? 224);
const batch = Number(process.env.BATCH ?? 16);
const steps = Number(process.env.STEPS ?? 3);
const micro = Number(process.env.MICRO ?? 8);
const variants = (process.env.VARIANTS ?? 'b0,lite0').split(',');
const batchNorm = process.env.BN === 'frozen' ? 'frozen' : 'batch';
const here = import.meta.dirname;
// Debian's python3-torch goes with Debian's Python, which a pyenv or venv on the PATH may hide.
const python = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

interface Row {
  msPerImage: number;
  peakMb: number;
  note?: string;
}

function child(command: string, args: string[]): Row | { error: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, SIZE: String(size), BATCH: String(batch), STEPS: String(steps), BN: batchNorm }, maxBuffer: 1 << 24 });
  const line = r.stdout
    ?.trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (r.status !== 0 || !line) return { error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-2).join(' ') };
  return JSON.parse(line) as Row;
}

function torchAvailable(): string | null {
  try {
    return execFileSync(python, ['-c', 'import torch, torchvision; print(torch.__version__)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

const torch = torchAvailable();
const rows: string[][] = [];
for (const variant of variants) {
  const measured: Record<string, Row | { error: string }> = {};
  const node = (engine: string, micro: number) => child(process.execPath, ['--import', 'tsx', path.join(here, 'train-step-child.ts'), engine, variant, String(micro)]);
  // The trainer's default micro-batch of 8; tfjs-wasm's 4 GB heap takes only 4 for B0 at 224 px.
  measured.tfjs = node('tfjs', micro);
  if ('error' in measured.tfjs && micro > 4) measured.tfjs = node('tfjs', 4);
  measured.ort = node('ort', micro);
  measured.torch = torch ? child(python, [path.join(here, 'torch-train-step.py'), variant]) : { error: 'python3-torch (and python3-torchvision) not installed' };
  const ms = (k: string) => ('msPerImage' in measured[k] ? (measured[k] as Row).msPerImage : null);
  for (const [engine, label] of [
    ['tfjs', 'tfjs-wasm (1 thread)'],
    ['ort', 'ONNX Runtime'],
    ['torch', `PyTorch ${torch ?? ''}`.trim()],
  ]) {
    const m = measured[engine];
    if ('error' in m) {
      rows.push([variant, label, '–', '–', '–', m.error]);
      continue;
    }
    const ort = ms('ort');
    const versus = (k: string) => (ms(k) && ort ? `${(ms(k)! / ort).toFixed(2)}×` : '–');
    rows.push([variant, label, m.msPerImage.toFixed(1), m.peakMb.toFixed(0), engine === 'ort' ? '1.00×' : versus(engine), m.note ?? '']);
  }
}
console.log(`One training step at ${size} px, batch ${batch}, batch norm ${batchNorm}: the fastest of ${steps} steps after a warm-up, per image.`);
for (const r of [['model', 'engine', 'ms / image', 'peak MB', 'time ÷ ORT', 'note'], ['---', '---', '--:', '--:', '--:', '---'], ...rows]) console.log(`| ${r.join(' | ')} |`);
console.log('Goals (issue #25): ONNX Runtime within 1.2× of PyTorch (PyTorch ÷ ORT ≥ 0.83), and at least 5× faster than tfjs-wasm (tfjs ÷ ORT ≥ 5).');

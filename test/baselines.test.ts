import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { backbone, parseModelName } from '../src/engine/models/architectures.js';
import { FIXTURES, tempDir } from './helpers.js';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

const count = (architecture: 'vgg19' | 'resnet50' | 'inceptionresnetv2' | 'densenet121' | 'alexnet', size = 224) => {
  const { input, features } = backbone({ architecture, variant: architecture, inputSize: size, preprocessing: 'none' });
  const m = tf.model({ inputs: input, outputs: features });
  const n = m.countParams();
  m.dispose();
  return n;
};

describe("the paper's baselines, with Keras's include_top=False parameter counts", () => {
  it('VGG19 20,024,384', () => expect(count('vgg19')).toBe(20_024_384));
  it('ResNet50 23,587,712', () => expect(count('resnet50')).toBe(23_587_712));
  it('DenseNet121 7,037,504', () => expect(count('densenet121')).toBe(7_037_504));
  it('InceptionResNetV2 54,336,736', () => expect(count('inceptionresnetv2')).toBe(54_336_736));
  it('AlexNet, single stream without LRN: 3,747,200 in its five convolutions', () => expect(count('alexnet')).toBe(3_747_200));

  it("InceptionResNetV2's scale-free batch norm trains (tfjs-layers would read a gamma it does not have)", () => {
    const { input, features } = backbone({ architecture: 'inceptionresnetv2', variant: 'inceptionresnetv2', inputSize: 80, preprocessing: 'none' });
    const m = tf.model({ inputs: input, outputs: features });
    const y = tf.tidy(() => (m.apply(tf.ones([1, 80, 80, 3]), { training: true }) as tf.Tensor).shape);
    expect(y).toEqual([1, 1, 1, 1536]);
    m.dispose();
  });

  it('reads model names', () => {
    expect(parseModelName('effnet-b0')).toEqual({ architecture: 'efficientnet', variant: 'b0' });
    expect(parseModelName('EfficientNet-B7')).toEqual({ architecture: 'efficientnet', variant: 'b7' });
    expect(parseModelName('densenet121').architecture).toBe('densenet121');
    expect(() => parseModelName('densenet50')).toThrow(/unknown model "densenet50"/);
  });
});

describe('slidetriage bench', () => {
  it('trains and tests every model the same way and writes the table, the ROC curves and confusion matrices; resumable per model', async () => {
    const out = await tempDir();
    const bin = path.resolve(import.meta.dirname, '..', 'bin', 'slidetriage.js');
    const args = [bin, 'bench', '--data', path.join(FIXTURES, 'cnmc'), '--models', 'alexnet,effnet-b0', '--img-size', '96', '--epochs', '1', '--batch', '4', '--negative-class', 'hem', '--out', out];
    const first = await promisify(execFile)(process.execPath, args, { maxBuffer: 1 << 22 });
    expect(first.stdout).toMatch(/\| AlexNet \|/);
    expect(first.stdout).toMatch(/\| EfficientNet-B0 \|/);
    const files = (await fs.readdir(out)).sort();
    for (const f of ['table.md', 'table.csv', 'results.json', 'roc.svg', 'roc.png', 'confusion-alexnet.svg', 'confusion-alexnet.png', 'confusion-effnet-b0.png']) expect(files).toContain(f);
    const results = JSON.parse(await fs.readFile(path.join(out, 'results.json'), 'utf8'));
    expect(results.rows.map((r: { parameters: number }) => r.parameters > 0)).toEqual([true, true]);
    expect(results.rows[0].n).toBe(4); // 20% of each class of 10
    // A second run reads the finished models back instead of training them again.
    const second = await promisify(execFile)(process.execPath, args, { maxBuffer: 1 << 22 });
    expect(second.stderr).toMatch(/alexnet: already done/);
    expect(second.stdout.split('\n').filter((l) => l.startsWith('| '))).toEqual(first.stdout.split('\n').filter((l) => l.startsWith('| ')));
  }, 240_000);
});

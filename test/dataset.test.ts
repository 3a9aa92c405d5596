import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classWeights, fileNumber, makeSplit, readSplit, scanClassFolders, unitOfFile, type ClassFolders } from '../src/engine/train/dataset.js';
import { FIXTURES, tempDir } from './helpers.js';

const EXT = ['jpg', 'jpeg', 'png', 'bmp', 'tif', 'tiff'];

function fakeData(perClass: number[]): ClassFolders {
  const classes = perClass.map((_, i) => `c${i}`);
  const samples = perClass.flatMap((n, label) => Array.from({ length: n }, (_, i) => ({ file: `c${label}/img-${String(i + 1).padStart(3, '0')}.jpg`, label })));
  return { root: '/data', classes, samples };
}

describe('training data and splits', () => {
  it('scans class folders and ignores non-images', async () => {
    const data = await scanClassFolders(path.join(FIXTURES, 'cnmc'), EXT);
    expect(data.classes).toEqual(['all', 'hem']);
    expect(data.samples).toHaveLength(20);
    await expect(scanClassFolders(path.join(FIXTURES, 'cnmc'), EXT, ['all', 'blasts'])).rejects.toThrow(/no folder for class\(es\) blasts/);
    await expect(scanClassFolders(path.join(FIXTURES, 'nope'), EXT)).rejects.toThrow(/cannot read the data folder/);
  });

  it('reads file numbers', () => {
    expect(fileNumber('Pro/WBC-Malignant-Pro-642.jpg')).toBe(642);
    expect(fileNumber('hem/UID_H11_10_1_hem.bmp')).toBe(1);
    expect(fileNumber('x/none.jpg')).toBeNull();
  });

  it('keeps blocks of neighbouring numbers on one side, with the asked fractions per class', () => {
    const data = fakeData([200, 120]);
    const split = makeSplit(data, { method: 'blocks', valFraction: 0.2, testFraction: 0.2, seed: 1, blockSize: 10 });
    const side = new Map<string, string>();
    for (const part of ['train', 'val', 'test'] as const) for (const f of split[part]) side.set(f, part);
    expect(side.size).toBe(320);
    for (const s of data.samples) {
      const n = fileNumber(s.file)!;
      const blockMate = data.samples.find((t) => t.label === s.label && Math.floor((fileNumber(t.file)! - 1) / 10) === Math.floor((n - 1) / 10))!;
      expect(side.get(s.file)).toBe(side.get(blockMate.file));
    }
    expect(split.test.filter((f) => f.startsWith('c0/'))).toHaveLength(40);
    expect(split.val.filter((f) => f.startsWith('c1/'))).toHaveLength(30); // 24 wanted, blocks of 10 → 30
    expect(makeSplit(data, { method: 'blocks', valFraction: 0.2, testFraction: 0.2, seed: 1, blockSize: 10 })).toEqual(split);
    expect(makeSplit(data, { method: 'blocks', valFraction: 0.2, testFraction: 0.2, seed: 2, blockSize: 10 }).val).not.toEqual(split.val);
  });

  it("names each file's unit as the split made it: its block of numbers, or the file itself", () => {
    const data = fakeData([200, 120]);
    const units = unitOfFile(data, 'blocks of 10');
    expect(new Set(units.values()).size).toBe(32);
    const n = (f: string) => Math.floor((fileNumber(f)! - 1) / 10);
    for (const a of data.samples.slice(0, 40)) for (const b of data.samples.slice(0, 40)) expect(units.get(a.file) === units.get(b.file)).toBe(a.label === b.label && n(a.file) === n(b.file));
    expect(new Set(unitOfFile(data, 'stratified').values()).size).toBe(320);
    expect(new Set(unitOfFile(data, 'file:elsewhere.json').values()).size).toBe(320);
  });

  it('makes blocks smaller for a small class, so that it still splits three ways', () => {
    const split = makeSplit(fakeData([10, 10]), { method: 'blocks', valFraction: 0.2, testFraction: 0.2, seed: 1, blockSize: 20 });
    expect(split.train.length).toBeGreaterThan(0);
    expect(split.val.length).toBe(4);
    expect(split.test.length).toBe(4);
  });

  it('stratified split takes single files', () => {
    const split = makeSplit(fakeData([40, 20]), { method: 'stratified', valFraction: 0.25, testFraction: 0, seed: 3, blockSize: 1 });
    expect(split.val).toHaveLength(15);
    expect(split.test).toHaveLength(0);
    expect(split.train).toHaveLength(45);
  });

  it('reads an explicit split file and rejects unknown or doubled files', async () => {
    const data = fakeData([3, 3]);
    const dir = await tempDir();
    const file = path.join(dir, 'split.json');
    await fs.writeFile(file, JSON.stringify({ train: ['c0/img-001.jpg', 'c1/img-001.jpg'], val: ['c0/img-002.jpg'] }));
    expect(await readSplit(file, data)).toMatchObject({ method: `file:${file}`, val: ['c0/img-002.jpg'] });
    // A split this program wrote (as a resumed run reads it back) keeps how it was made.
    const made = makeSplit(data, { method: 'blocks', valFraction: 0.34, testFraction: 0, seed: 42, blockSize: 2 });
    await fs.writeFile(file, JSON.stringify(made));
    expect(await readSplit(file, data)).toEqual(made);
    await fs.writeFile(file, JSON.stringify({ train: ['c0/img-009.jpg'], val: [] }));
    await expect(readSplit(file, data)).rejects.toThrow(/not in/);
    await fs.writeFile(file, JSON.stringify({ train: ['c0/img-001.jpg'], val: ['c0/img-001.jpg'] }));
    await expect(readSplit(file, data)).rejects.toThrow(/more than one part/);
  });

  it('balanced class weights', () => {
    expect(classWeights([0, 0, 0, 1], 2)).toEqual([4 / 6, 2]);
  });
});

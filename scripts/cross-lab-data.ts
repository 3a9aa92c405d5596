// `node --import tsx scripts/cross-lab-data.ts`: the data folder and split of the cross-lab run
// `crosslab-b` (docs/benchmarks/cross-lab): Taleqani (symlinks, the default model's split) plus PBC's
// normal cells as Benign (590 lymphocytes, 100 of each other kind), split by sorted position: every 5th
// file held out as test, every 5th + 1 for validation. BCCD and C-NMC stay out: labs the run never sees.
// Writes scratch/md/ and scratch/md-split.json (scratch/ is not committed: the images are not ours to share).
import fs from 'node:fs';
import path from 'node:path';
const data = path.resolve('../shared/data');
const out = path.resolve('scratch/md');
fs.rmSync(out, { recursive: true, force: true });
const split = JSON.parse(fs.readFileSync('models/default/split.json', 'utf8'));
for (const c of ['Benign', 'Early', 'Pre', 'Pro']) {
  fs.mkdirSync(path.join(out, c), { recursive: true });
  for (const f of fs.readdirSync(path.join(data, 'taleqani', c))) fs.symlinkSync(path.join(data, 'taleqani', c, f), path.join(out, c, f));
}
const cap: Record<string, number> = { lymphocyte: 590 };
for (const kind of fs.readdirSync(path.join(data, 'pbc')).filter((k) => !k.includes('.'))) {
  const files = fs
    .readdirSync(path.join(data, 'pbc', kind))
    .sort()
    .slice(0, cap[kind] ?? 100);
  files.forEach((f, i) => {
    const name = `pbc-${kind}-${f}`;
    fs.symlinkSync(path.join(data, 'pbc', kind, f), path.join(out, 'Benign', name));
    (i % 5 === 0 ? split.test : i % 5 === 1 ? split.val : split.train).push(`Benign/${name}`);
  });
}
split.method = 'default split + PBC by position (every 5th test, 5th+1 validation)';
fs.writeFileSync('scratch/md-split.json', JSON.stringify(split, null, 1));
console.log(split.train.length, split.val.length, split.test.length);

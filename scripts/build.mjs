// `npm run build` (run by `npm pack`): the TypeScript sources compiled to dist/, with the worker boot
// files (plain .mjs, which tsc does not copy) beside them. A clone runs src/ through tsx and needs no build.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const file of execFileSync('git', ['ls-files', 'src/**/*.mjs', 'src/*.mjs'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean)) {
  const to = path.join(root, 'dist', path.relative('src', file));
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(path.join(root, file), to);
}

// The whole journal check's worker (verify-background.ts). Worker threads do not inherit the TypeScript
// loader of the thread that starts them: in a built package the compiled worker is beside this file; in a
// clone, tsx is registered here.
import { existsSync } from 'node:fs';

const compiled = new URL('./verify-worker.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./verify-worker.ts');
}

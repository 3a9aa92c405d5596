// Worker threads do not inherit the TypeScript loader of the thread that starts them: register tsx here.
import { register } from 'tsx/esm/api';

register();
await import('./gradient-worker.ts');

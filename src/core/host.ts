// This machine's name as the store records it (leases, predictions, engine hosts). SLIDETRIAGE_HOST
// overrides it: several "hosts" on one machine (tests, a lab trying the setup out on one server).
import os from 'node:os';

export function hostName(): string {
  return process.env.SLIDETRIAGE_HOST || os.hostname();
}

/** Whether a process of this host runs (one of another user's counts: signalling it is refused, not failed). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

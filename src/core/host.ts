// This machine's name as the store records it (leases, predictions, engine hosts). SLIDETRIAGE_HOST
// overrides it: several "hosts" on one machine (tests, a lab trying the setup out on one server).
import os from 'node:os';

export function hostName(): string {
  return process.env.SLIDETRIAGE_HOST || os.hostname();
}

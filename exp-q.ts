import fs from 'node:fs';
process.stdin.setRawMode(true);
let t = '';
process.stdin.on('data', (d) => (t += d.toString('latin1')));
process.stdout.write('\x1b[16t\x1b[14t\x1b[?2;1S\x1b[18t\x1b[c');
setTimeout(() => { fs.writeFileSync('/tmp/exp/q.txt', JSON.stringify(t)); process.exit(0); }, 1500);

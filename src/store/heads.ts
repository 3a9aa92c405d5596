// The journal's head, anchored outside the database. A journal rewritten with every hash recomputed (and the
// store's head with it) verifies on its own, so each journal write also appends its new head to an
// append-only file beside the store, which verify compares: a rewrite has to forge two files consistently.
// For a lab that wants more, `audit anchor` prints the head for a notary of its own (a signed e-mail, syslog,
// a ticket), and `audit verify --anchor SEQ:HASH` checks the journal against it later.
import { closeSync, constants, fchmodSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { FILE_MODE } from './files.js';

export interface Head {
  seq: number;
  hash: string;
}

export const headsFileOf = (storeFile: string) => `${storeFile}.heads`;

/** Creates the file (0660, whatever the umask) without a head, never through a link. */
export function startHeadsFile(file: string): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, FILE_MODE);
  try {
    fchmodSync(fd, FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/** Appends a head (synced), never through a link. */
export function appendHead(file: string, head: Head): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, FILE_MODE);
  try {
    fchmodSync(fd, FILE_MODE); // the umask may have taken the group's bits
    writeSync(fd, `${head.seq} ${head.hash} ${new Date().toISOString()}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The heads recorded in the file (a torn last line, cut by a crash, is left out); null when there is no file. */
export function readHeads(file: string): Array<Head & { at: string }> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const heads: Array<Head & { at: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+) ([0-9a-f]{64}) (\S+)$/.exec(line);
    if (m) heads.push({ seq: Number(m[1]), hash: m[2], at: m[3] });
  }
  return heads;
}

/** What the heads say of a journal whose entries are given by seq (`hashAt`) and whose last seq is `last`. */
export function headsProblems(heads: Array<Head & { at: string }>, hashAt: (seq: number) => string | undefined, last: number): string[] {
  const problems: string[] = [];
  for (const h of heads) {
    if (h.seq === 0) continue;
    const hash = hashAt(h.seq);
    if (hash === undefined && h.seq > last) problems.push(`the heads file recorded entry ${h.seq} at ${h.at}, but the journal ends at ${last} — entries were cut off the end`);
    else if (hash !== h.hash) problems.push(`entry ${h.seq} is not the one the heads file recorded at ${h.at} — the journal was rewritten`);
    if (problems.length >= 20) break;
  }
  return problems;
}

/** Checks a journal against a head kept elsewhere (`audit verify --anchor SEQ:HASH`). */
export function anchorProblems(anchor: Head, hashAt: (seq: number) => string | undefined): string[] {
  const hash = hashAt(anchor.seq);
  if (hash === undefined) return [`the journal has no entry ${anchor.seq}, which the anchor names — entries were cut off the end`];
  return hash === anchor.hash ? [] : [`entry ${anchor.seq} is not the one anchored (hash ${hash.slice(0, 12)}…, anchored ${anchor.hash.slice(0, 12)}…) — the journal was rewritten`];
}

export function parseAnchor(text: string): Head | null {
  const m = /^(\d+):([0-9a-f]{64})$/.exec(text.trim());
  return m ? { seq: Number(m[1]), hash: m[2] } : null;
}

// File names are bytes. A name that is not UTF-8 (Latin-1 from an SMB share: `caf\xe9.jpg`) becomes U+FFFD in
// a JavaScript string, and no file of that name exists: such files were skipped without a state. The walk
// reads names as bytes; a name that is not UTF-8 is written with its stray bytes as `\xNN` (the sanitiser's
// form, so that it shows as it is stored), and the bytes are kept here so that the file is read by its real name.

const fatal = new TextDecoder('utf-8', { fatal: true });
/** Paths (as the store names them) whose bytes are not UTF-8 → their real bytes. */
const byteNames = new Map<string, Buffer>();

function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead < 0xe0) return 2;
  if (lead >= 0xe0 && lead < 0xf0) return 3;
  if (lead >= 0xf0 && lead < 0xf5) return 4;
  return 0;
}

/** A name's bytes as text: UTF-8 where they are, `\xNN` for each stray byte. */
export function nameOfBytes(bytes: Buffer): string {
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const n = sequenceLength(bytes[i]);
    if (n > 0 && i + n <= bytes.length) {
      try {
        out += fatal.decode(bytes.subarray(i, i + n));
        i += n;
        continue;
      } catch {
        // a stray byte, below
      }
    }
    out += `\\x${bytes[i].toString(16).padStart(2, '0')}`;
    i++;
  }
  return out;
}

/** Whether the bytes are UTF-8 (a name then is what it says). */
export const isUtf8 = (bytes: Buffer) => Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);

/** Remembers the bytes of a path whose name is not UTF-8. */
export function rememberBytes(name: string, bytes: Buffer): void {
  byteNames.set(name, bytes);
}

/** What to hand the file system for a path the walk found: its real bytes where its name is not UTF-8. */
export function onDisk(file: string): string | Buffer {
  return byteNames.get(file) ?? file;
}

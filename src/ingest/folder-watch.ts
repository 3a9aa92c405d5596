// Watches a large incoming tree by its folders, one fs.watch each, never by its files: chokidar watches and
// stats every file, and on a folder of a million slides it took minutes and gigabytes at start and ran out
// of the system's inotify watches (docs/store.md). A name that appears, changes or goes in a watched folder is
// looked at: a new folder is watched and its files passed on; a file is passed on (whoever examines it waits
// for it to be whole); a name gone is passed on as gone. The minute's walk finds what no event announced.
import fs from 'node:fs';
import path from 'node:path';
import { walkFiles } from './walk.js';

export interface FolderWatchEvents {
  file(file: string): void;
  gone(file: string): void;
  warning(message: string): void;
}

export class FolderWatch {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly skip: (name: string) => boolean,
    private readonly on: FolderWatchEvents,
  ) {}

  /** Watches the root and every folder under it. */
  async start(): Promise<void> {
    await this.watchTree(this.root);
  }

  get folders(): number {
    return this.watchers.size;
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private async watchTree(dir: string): Promise<void> {
    if (this.closed || this.watchers.has(dir)) return;
    try {
      const watcher = fs.watch(dir, { persistent: false }, (_event, name) => void (name && this.changed(dir, name.toString())));
      watcher.on('error', (err) => this.forget(dir, `cannot watch ${dir}: ${err.message}`));
      this.watchers.set(dir, watcher);
    } catch (err) {
      this.on.warning(`cannot watch ${dir}: ${(err as Error).message}`);
    }
    const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory() && !this.skip(e.name)) await this.watchTree(path.join(dir, e.name));
  }

  private forget(dir: string, message?: string): void {
    this.watchers.get(dir)?.close();
    this.watchers.delete(dir);
    if (message) this.on.warning(message);
  }

  private async changed(dir: string, name: string): Promise<void> {
    if (this.closed || this.skip(name)) return;
    const full = path.join(dir, name);
    const stat = await fs.promises.lstat(full).catch(() => null);
    if (!stat) {
      // Gone: a file (its entry is marked), or a folder (no longer watched; its files, by the next walk).
      for (const watched of [...this.watchers.keys()]) if (watched === full || watched.startsWith(full + path.sep)) this.forget(watched);
      return this.on.gone(full);
    }
    if (!stat.isDirectory()) return this.on.file(full);
    // A folder moved in or made: watched, and what it already holds passed on.
    await this.watchTree(full);
    for (const file of (await walkFiles(full, this.skip)).files) this.on.file(file);
  }
}

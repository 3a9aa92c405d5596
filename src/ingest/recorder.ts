// Records what the watcher found in batches: after `every` results, or `afterMs` after the first one,
// whichever comes first. 1,000 files dropped at once then cost a handful of store writes, not a thousand.
import type { FileEntry } from '../store/schema.js';
import type { SlideStore } from '../store/types.js';
import type { Examined } from './ingest.js';

export class BatchRecorder {
  /** In the order found: a file removed and added again ends up as it was last seen. */
  private ops: Array<{ examined: Examined } | { gone: string }> = [];
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** Results taken and not yet written. */
  pending = 0;

  constructor(
    private readonly store: SlideStore,
    private readonly on: { recorded(entries: FileEntry[]): void; failed(message: string): void; settled(): void },
    private readonly every = 64,
    private readonly afterMs = 150,
  ) {}

  add(x: Examined): void {
    this.take({ examined: x });
  }

  addGone(rel: string): void {
    this.take({ gone: rel });
  }

  private take(op: { examined: Examined } | { gone: string }): void {
    this.ops.push(op);
    this.pending++;
    if (this.ops.length >= this.every) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.afterMs);
  }

  /** Writes what is waiting; resolves once everything taken so far is written (or failed). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ops = this.ops;
    this.ops = [];
    if (!ops.length) return this.chain;
    this.chain = this.chain
      .then(async () => {
        const entries = await this.store.recordFiles(ops);
        this.on.recorded(entries);
      })
      .catch((err: Error) => this.on.failed(`cannot record ${ops.length} file(s) in the store: ${err.message}`))
      .finally(() => {
        this.pending -= ops.length;
        this.on.settled();
      });
    return this.chain;
  }
}

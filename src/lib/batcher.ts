/**
 * Gathers items for a few milliseconds and writes them together: thousands of devices confirming an
 * alarm become a handful of transactions instead of thousands queued one by one. `add` resolves with
 * the item's own result once its batch is written. A failed write puts the batch back and tries again
 * later (nothing is lost to a database blip); past `maxPending` new items are refused at once.
 */
export interface BatcherOptions<T, R> {
  /** Writes one batch; returns one result per item, in order. */
  write(batch: T[]): Promise<R[]>;
  /** How long the first item of a batch waits for others. */
  delayMs: number;
  /** A batch this large is written at once. */
  maxBatch: number;
  /** After a failed write, the batch is tried again this much later. */
  retryMs: number;
  /** Items waiting (e.g. while the database is away) beyond which `add` is refused. */
  maxPending: number;
  /** Told about each failed write (it is retried). */
  onError(err: unknown, items: number): void;
  /** What `add` rejects with when too many items wait. */
  overloaded(): Error;
}

interface Pending<T, R> {
  item: T;
  done(result: R): void;
}

export class Batcher<T, R = void> {
  private pending: Pending<T, R>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: BatcherOptions<T, R>) {}

  add(item: T): Promise<R> {
    if (this.pending.length >= this.options.maxPending) return Promise.reject(this.options.overloaded());
    return new Promise<R>((done) => {
      this.pending.push({ item, done });
      if (this.pending.length >= this.options.maxBatch) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.options.delayMs);
    });
  }

  /** Writes everything added so far; resolves when it is written or put back for a retry. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    // One write at a time, in the order items came: a later batch never overtakes an earlier one.
    this.writing = this.writing.then(async () => {
      if (batch.length === 0) return;
      try {
        const results = await this.options.write(batch.map((p) => p.item));
        batch.forEach((p, i) => p.done(results[i] as R));
      } catch (err) {
        this.options.onError(err, batch.length);
        this.pending.unshift(...batch);
        this.timer ??= setTimeout(() => void this.flush(), this.options.retryMs);
      }
    });
    return this.writing;
  }

  /** Items not yet written. */
  get size(): number {
    return this.pending.length;
  }
}

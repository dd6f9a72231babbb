export interface GroupCommitOptions {
  /** A batch is flushed as soon as this many items are queued. */
  maxBatchSize: number;
  /** …or when the oldest queued item has waited this long (ms). */
  maxDelayMs: number;
  /** Items waiting (queued + in flight) beyond which `enqueue` refuses at once (back-pressure). */
  maxPending?: number;
}

/** The queue refused an item: closed-and-failed or over `maxPending`. */
export class GroupCommitRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GroupCommitRejectedError';
  }
}

interface Waiter<T> {
  item: T;
  /** When it was enqueued (monotonic ms). */
  at: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: callers `enqueue` an item and wait for the batch that carries it. A single writer calls
 * `flush(items)` with at most `maxBatchSize` items, in enqueue order, never two flushes at once; a batch
 * starts when `maxBatchSize` items are queued or the oldest has waited `maxDelayMs`. When `flush` resolves
 * every waiter of that batch resolves; when it rejects every waiter of that batch rejects with the same
 * error, and the next batches go on. `close()` stops waiting: everything queued (and anything enqueued
 * afterwards) is flushed at once, and `close()` resolves when the queue is empty.
 *
 * Pure (no I/O of its own): the flush callback does the writing, so the batching rules are unit-tested.
 */
export class GroupCommitQueue<T> {
  private queue: Waiter<T>[] = [];
  private inFlight = 0;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private readonly maxPending: number;

  constructor(
    private readonly flush: (items: T[]) => Promise<void>,
    private readonly options: GroupCommitOptions,
    /** Monotonic milliseconds (injectable for tests). */
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    if (!(options.maxBatchSize >= 1)) throw new Error('maxBatchSize must be >= 1');
    if (!(options.maxDelayMs >= 0)) throw new Error('maxDelayMs must be >= 0');
    this.maxPending = options.maxPending ?? Number.POSITIVE_INFINITY;
  }

  /** Items queued and not yet handed to `flush`. */
  get queued(): number {
    return this.queue.length;
  }

  /** Items queued or in the batch being flushed. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  enqueue(item: T): Promise<void> {
    if (this.pending >= this.maxPending) {
      return Promise.reject(
        new GroupCommitRejectedError(`group commit queue is full (${this.maxPending} pending)`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, at: this.nowMs(), resolve, reject });
      this.schedule();
    });
  }

  /** Flushes everything queued, stops waiting for future items, and resolves when nothing is pending. */
  async close(): Promise<void> {
    this.closing = true;
    this.schedule();
    while (this.flushing || this.queue.length > 0) {
      if (this.flushing) await this.flushing;
      else this.schedule();
    }
  }

  private schedule(): void {
    if (this.flushing || this.queue.length === 0) return;
    const waited = this.nowMs() - this.queue[0].at;
    if (this.closing || this.queue.length >= this.options.maxBatchSize || waited >= this.options.maxDelayMs) {
      this.clearTimer();
      this.flushing = this.runBatch();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.schedule();
        },
        Math.max(0, this.options.maxDelayMs - waited),
      );
      // A pending timer must not keep a process alive on its own; close() flushes explicitly.
      this.timer.unref?.();
    }
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private async runBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.options.maxBatchSize);
    this.inFlight = batch.length;
    try {
      await this.flush(batch.map((w) => w.item));
      for (const waiter of batch) waiter.resolve();
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
    } finally {
      this.inFlight = 0;
      this.flushing = null;
    }
    // Items that arrived during the flush have waited at least as long as the flush took: when the
    // flush was slower than `maxDelayMs` (or enough items piled up) the next batch starts at once.
    this.schedule();
  }
}

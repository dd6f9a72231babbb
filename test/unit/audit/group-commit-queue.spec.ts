import { GroupCommitQueue } from '../../../libs/audit/src/group-commit-queue';
import { GroupCommitRejectedError } from '../../../libs/audit/src/group-commit-queue';

/** A flush callback whose batches the test completes (or fails) by hand. */
function controlledFlush<T>() {
  const batches: T[][] = [];
  const pending: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  const flush = (items: T[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push(items);
      pending.push({ resolve, reject });
    });
  return { flush, batches, pending };
}

/** Lets promise callbacks run (no timers). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('GroupCommitQueue', () => {
  it('flushes a full batch at once and keeps enqueue order across batches', async () => {
    const f = controlledFlush<number>();
    const q = new GroupCommitQueue(f.flush, { maxBatchSize: 3, maxDelayMs: 60_000 });
    const done = [1, 2, 3, 4, 5, 6, 7].map((n) => q.enqueue(n));
    await settle();
    expect(f.batches).toEqual([[1, 2, 3]]); // one writer: the next full batch waits for this one
    f.pending[0].resolve();
    await settle();
    expect(f.batches).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    f.pending[1].resolve();
    await settle();
    // 7 is alone but has waited for a whole flush: it still waits its delay (60 s here), unless closed.
    expect(f.batches).toHaveLength(2);
    const closed = q.close();
    await settle();
    expect(f.batches[2]).toEqual([7]);
    f.pending[2].resolve();
    await closed;
    await expect(Promise.all(done)).resolves.toHaveLength(7);
    expect(f.batches.flat()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('never hands more than maxBatchSize items to one flush', async () => {
    const sizes: number[] = [];
    const q = new GroupCommitQueue<number>(
      async (items) => {
        sizes.push(items.length);
        await settle();
      },
      { maxBatchSize: 100, maxDelayMs: 1 },
    );
    await Promise.all(Array.from({ length: 250 }, (_, i) => q.enqueue(i)));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(250);
    expect(sizes.length).toBeLessThan(250);
  });

  it('waits maxDelayMs for company before flushing a lone item', async () => {
    jest.useFakeTimers();
    try {
      const f = controlledFlush<string>();
      const q = new GroupCommitQueue(f.flush, { maxBatchSize: 10, maxDelayMs: 5 }, () => Date.now());
      void q.enqueue('a');
      jest.advanceTimersByTime(3);
      void q.enqueue('b');
      expect(f.batches).toEqual([]);
      jest.advanceTimersByTime(2); // 5 ms after the first item
      expect(f.batches).toEqual([['a', 'b']]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('runs one flush at a time and groups what arrives meanwhile into the next batch', async () => {
    const f = controlledFlush<number>();
    let concurrent = 0;
    let maxConcurrent = 0;
    const q = new GroupCommitQueue<number>(
      async (items) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        try {
          await f.flush(items);
        } finally {
          concurrent--;
        }
      },
      { maxBatchSize: 100, maxDelayMs: 0 },
    );
    const first = q.enqueue(1);
    await settle();
    const rest = [2, 3, 4].map((n) => q.enqueue(n));
    await settle();
    expect(f.batches).toEqual([[1]]);
    f.pending[0].resolve();
    await first;
    await settle();
    expect(f.batches[1]).toEqual([2, 3, 4]);
    f.pending[1].resolve();
    await Promise.all(rest);
    expect(maxConcurrent).toBe(1);
  });

  it('rejects every waiter of a failed batch with its error and goes on with the next batch', async () => {
    const f = controlledFlush<number>();
    const q = new GroupCommitQueue(f.flush, { maxBatchSize: 2, maxDelayMs: 60_000 });
    const results = [1, 2, 3].map((n) =>
      q.enqueue(n).then(
        () => 'ok',
        (e: unknown) => e,
      ),
    );
    await settle();
    expect(f.batches).toEqual([[1, 2]]);
    const boom = new Error('database down');
    f.pending[0].reject(boom);
    const closed = q.close();
    await settle();
    expect(f.batches[1]).toEqual([3]);
    f.pending[1].resolve();
    await closed;
    expect(await Promise.all(results)).toEqual([boom, boom, 'ok']);
  });

  it('close() flushes what is queued without waiting the delay, and later items are flushed at once', async () => {
    const flushed: number[][] = [];
    const q = new GroupCommitQueue<number>(
      async (items) => {
        flushed.push(items);
        await settle();
      },
      { maxBatchSize: 100, maxDelayMs: 60_000 },
    );
    const a = q.enqueue(1);
    const b = q.enqueue(2);
    await settle();
    expect(flushed).toEqual([]);
    await q.close();
    await Promise.all([a, b]);
    expect(flushed).toEqual([[1, 2]]);
    expect(q.pending).toBe(0);
    await q.enqueue(3); // would wait 60 s if the queue were not closing
    expect(flushed).toEqual([[1, 2], [3]]);
  });

  it('refuses at once beyond maxPending (back-pressure) and accepts again once drained', async () => {
    const f = controlledFlush<number>();
    const q = new GroupCommitQueue(f.flush, { maxBatchSize: 10, maxDelayMs: 60_000, maxPending: 2 });
    const ok = [q.enqueue(1), q.enqueue(2)];
    await expect(q.enqueue(3)).rejects.toBeInstanceOf(GroupCommitRejectedError);
    const closed = q.close();
    await settle();
    expect(f.batches).toEqual([[1, 2]]);
    f.pending[0].resolve();
    await Promise.all(ok);
    await closed;
    const later = q.enqueue(4);
    await settle();
    expect(f.batches[1]).toEqual([4]);
    f.pending[1].resolve();
    await expect(later).resolves.toBeUndefined();
  });

  it('refuses nonsensical options', () => {
    expect(() => new GroupCommitQueue(async () => undefined, { maxBatchSize: 0, maxDelayMs: 1 })).toThrow();
    expect(() => new GroupCommitQueue(async () => undefined, { maxBatchSize: 1, maxDelayMs: -1 })).toThrow();
  });
});

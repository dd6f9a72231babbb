import { InMemorySlidingWindow } from '../../../libs/ratelimit/src/sliding-window.in-memory';

/** The embedded mode's in-memory sliding log answers exactly like the Redis script (same KEYS/ARGV/reply). */
describe('InMemorySlidingWindow', () => {
  const keys = ['log:a', 'rejected:a'];
  const call = (w: InMemorySlidingWindow, now: number, count = true) =>
    w.run(keys, [now, `m${now}`, 500, 5, 60_000, count ? 1 : 0]);

  it('lets exactly the limit through in a window, then refuses, reporting the first rejection once', () => {
    const w = new InMemorySlidingWindow();
    for (const t of [0, 10_000, 20_000, 30_000, 40_000]) expect(call(w, t)[0]).toBe(0);
    const refused = call(w, 59_000);
    expect(refused.slice(0, 2)).toEqual([1, 1]);
    expect(refused[2]).toBe(5);
    expect(refused[3]).toBe(60_000); // the oldest request ages out at 0 + window
    expect(call(w, 59_500).slice(0, 2)).toEqual([1, 0]); // not "first" again in the window
  });

  it('slides: requests become possible one by one as old ones age out', () => {
    const w = new InMemorySlidingWindow();
    for (const t of [0, 10_000, 20_000, 30_000, 40_000]) call(w, t);
    expect(call(w, 60_001)[0]).toBe(0);
    expect(call(w, 60_002)[0]).toBe(1);
    expect(call(w, 70_001)[0]).toBe(0);
  });

  it('checks without counting in check mode, and checks several buckets all-or-nothing', () => {
    const w = new InMemorySlidingWindow();
    for (let i = 0; i < 5; i++) expect(call(w, i, false)[0]).toBe(0);
    const two = ['log:m', 'rej:m', 'log:h', 'rej:h'];
    const args = (now: number) => [now, 'x', 500, 3, 60_000, 1, 2, 3_600_000, 1];
    expect(w.run(two, args(0))[0]).toBe(0);
    expect(w.run(two, args(1))[0]).toBe(0);
    // the hourly bucket (2) is full: refused, and the minute bucket did not count it
    expect(w.run(two, args(2)).slice(0, 5)).toEqual([2, 1, 2, expect.any(Number), 0]);
  });
});

describe('InMemorySlidingWindow leases', () => {
  const keys = ['log:l', 'rejected:l'];
  it('grants a lease up to the room left, counted at now + lease lifetime (never ages out early)', () => {
    const w = new InMemorySlidingWindow();
    expect(w.run(keys, [0, 'a', 500, 5, 60_000, 1])).toEqual([0, 0, 1, 60_000, 1]);
    // ask for 8, room for 4: four slots, counted at 0 + 500
    expect(w.run(keys, [0, 'b', 500, 5, 60_000, 8])).toEqual([0, 0, 5, 60_000, 4]);
    expect(w.run(keys, [100, 'c', 500, 5, 60_000, 1]).slice(0, 2)).toEqual([1, 1]);
    // at 60,000 the plain request aged out; the leased slots still count until 60,500
    expect(w.run(keys, [60_000, 'd', 500, 5, 60_000, 1])).toEqual([0, 0, 5, 60_500, 1]);
    expect(w.run(keys, [60_499, 'e', 500, 5, 60_000, 1]).slice(0, 3)).toEqual([1, 1, 5]);
    // at 60,500 they age out: room for four again
    expect(w.run(keys, [60_500, 'f', 500, 5, 60_000, 2])).toEqual([0, 0, 3, 120_000, 2]);
  });
});

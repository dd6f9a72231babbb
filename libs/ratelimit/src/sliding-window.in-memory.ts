/**
 * The sliding-log check of `SLIDING_WINDOW_LUA`, in process memory, with the same arguments and reply, for
 * the embedded mode's single process (its in-process Redis cannot run that script). One JavaScript call
 * runs alone on the event loop, which gives it the script's atomicity.
 */
export class InMemorySlidingWindow {
  private readonly logs = new Map<string, number[]>();
  private readonly quietUntil = new Map<string, number>();

  /** `keys`/`args` exactly as the script takes KEYS and ARGV (see sliding-window.script.ts). */
  run(keys: string[], args: (string | number)[]): number[] {
    const now = Number(args[0]);
    const n = keys.length / 2;
    const counts: number[] = [];
    let blocked = 0;
    const limitOf = (i: number) => Number(args[3 * i - 1]);
    const windowOf = (i: number) => Number(args[3 * i]);
    const countsRequest = (i: number) => String(args[3 * i + 1]) === '1';
    for (let i = 1; i <= n; i++) {
      const log = this.log(keys[2 * i - 2]);
      const cutoff = now - windowOf(i);
      while (log.length > 0 && log[0] <= cutoff) log.shift();
      counts[i] = log.length;
      if (blocked === 0 && log.length >= limitOf(i)) blocked = i;
    }
    let first = 0;
    if (blocked === 0) {
      for (let i = 1; i <= n; i++) {
        if (!countsRequest(i)) continue;
        this.log(keys[2 * i - 2]).push(now);
        counts[i] += 1;
      }
    } else {
      const marker = keys[2 * blocked - 1];
      if ((this.quietUntil.get(marker) ?? 0) <= now) {
        this.quietUntil.set(marker, now + windowOf(blocked));
        first = 1;
      }
    }
    const reply = [blocked, first];
    for (let i = 1; i <= n; i++) {
      const log = this.log(keys[2 * i - 2]);
      let resetAt = 0;
      if (counts[i] > 0) {
        const index = Math.max(0, counts[i] - limitOf(i));
        if (log[index] !== undefined) resetAt = log[index] + windowOf(i);
      }
      reply.push(counts[i], resetAt);
    }
    return reply;
  }

  private log(key: string): number[] {
    let log = this.logs.get(key);
    if (!log) {
      log = [];
      this.logs.set(key, log);
    }
    return log;
  }
}

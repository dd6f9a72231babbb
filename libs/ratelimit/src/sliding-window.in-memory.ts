/**
 * The sliding-log check of `SLIDING_WINDOW_LUA`, in process memory, with the same arguments and reply, for
 * the embedded mode's single process (its in-process Redis cannot run that script). One JavaScript call
 * runs alone on the event loop, which gives it the script's atomicity.
 */
export class InMemorySlidingWindow {
  /** Per log, the counted requests' times in ascending order (leased slots are counted ahead of now). */
  private readonly logs = new Map<string, number[]>();
  private readonly quietUntil = new Map<string, number>();

  /** `keys`/`args` exactly as the script takes KEYS and ARGV (see sliding-window.script.ts). */
  run(keys: string[], args: (string | number)[]): number[] {
    const now = Number(args[0]);
    const leaseMs = Number(args[2]);
    const n = keys.length / 2;
    const counts: number[] = [];
    const granted: number[] = [];
    let blocked = 0;
    const limitOf = (i: number) => Number(args[3 * i]);
    const windowOf = (i: number) => Number(args[3 * i + 1]);
    const askOf = (i: number) => Number(args[3 * i + 2]);
    for (let i = 1; i <= n; i++) {
      const log = this.log(keys[2 * i - 2]);
      const cutoff = now - windowOf(i);
      while (log.length > 0 && log[0] <= cutoff) log.shift();
      counts[i] = log.length;
      granted[i] = 0;
      if (blocked === 0 && log.length >= limitOf(i)) blocked = i;
    }
    let first = 0;
    if (blocked === 0) {
      for (let i = 1; i <= n; i++) {
        const ask = askOf(i);
        if (ask <= 0) continue;
        const slots = ask === 1 ? 1 : Math.min(ask, limitOf(i) - counts[i]);
        const at = ask === 1 ? now : now + leaseMs;
        const log = this.log(keys[2 * i - 2]);
        for (let j = 0; j < slots; j++) insertSorted(log, at);
        granted[i] = slots;
        counts[i] += slots;
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
      reply.push(counts[i], resetAt, granted[i]);
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

/** Inserts `time` after every entry ≤ it (the sorted set's order for equal scores does not matter here). */
function insertSorted(log: number[], time: number): void {
  let index = log.length;
  while (index > 0 && log[index - 1] > time) index--;
  log.splice(index, 0, time);
}

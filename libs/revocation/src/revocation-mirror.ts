import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS } from '@agentauth/core';
import type { RevocationKind, RevocationRef, StoredMarker } from './revocation-marker';

/** Redis keys (under the configured key prefix, added by ioredis). */
export const REVOCATION_KEYS = {
  marker: (kind: RevocationKind, id: string) => `revocation:m:${kind}:${id}`,
  /** Present ⇔ Redis holds every marker of PostgreSQL (set at the end of a complete rebuild). */
  loaded: 'revocation:loaded',
  /** Bumped whenever the mirror is known to be incomplete; a rebuild that started before does not count. */
  epoch: 'revocation:epoch',
  rebuildLock: 'revocation:rebuild-lock',
};

/** Markers per Redis script call. */
const WRITE_BATCH = 500;

/**
 * Writes markers so that a value only moves forward (a late, older write never lowers `revoked_at`), with
 * the expiry the database returned (0 = none). KEYS: marker keys; ARGV: revoked-at ms, expire-at ms, ….
 */
const WRITE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  local v = tonumber(ARGV[2 * i - 1])
  local px = tonumber(ARGV[2 * i])
  local cur = tonumber(redis.call('GET', key) or '-1')
  if v > cur then
    if px > 0 then redis.call('SET', key, ARGV[2 * i - 1], 'PXAT', px) else redis.call('SET', key, ARGV[2 * i - 1]) end
  elseif v == cur then
    if px == 0 then
      redis.call('PERSIST', key)
    else
      local ttl = redis.call('PTTL', key)
      if ttl >= 0 and now + ttl < px then redis.call('PEXPIREAT', key, px) end
    end
  end
end
return #KEYS`;

/** Sets the sentinel only if this rebuild still holds the lock and nothing invalidated the mirror meanwhile. */
const FINISH_REBUILD_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[3], ARGV[3])
return 1`;

const RELEASE_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisUnavailableError extends Error {
  constructor() {
    super('redis is not connected');
    this.name = 'RedisUnavailableError';
  }
}

/** The Redis side of the revocation state: marker keys, the "loaded" sentinel, the rebuild lock. */
@Injectable()
export class RevocationMirror {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** False while the connection is down: callers go to PostgreSQL at once instead of queueing. */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  private ensureConnected(): void {
    if (!this.connected) throw new RedisUnavailableError();
  }

  /**
   * The hot path: ONE round trip (MGET of every marker key plus the sentinel). `values[i]` is the
   * revoked-at (ms) of `refs[i]`, or null.
   */
  async check(refs: readonly RevocationRef[]): Promise<{ loaded: boolean; values: (number | null)[] }> {
    this.ensureConnected();
    const replies = await this.redis.mget(
      ...refs.map((r) => REVOCATION_KEYS.marker(r.kind, r.id)),
      REVOCATION_KEYS.loaded,
    );
    const loaded = replies[replies.length - 1] !== null;
    // A value that is not a number cannot be trusted to be "not revoked": it reads as revoked forever.
    const values = replies
      .slice(0, -1)
      .map((v) => (v === null ? null : Number.isFinite(Number(v)) ? Number(v) : Infinity));
    return { loaded, values };
  }

  /** Writes markers (expiry = `expires_at` + `graceMs`); markers already past that are skipped. */
  async write(markers: readonly StoredMarker[], nowMs: number, graceMs: number): Promise<void> {
    this.ensureConnected();
    const live = markers.filter((m) => m.expiresAtMs === null || m.expiresAtMs + graceMs > nowMs);
    for (let i = 0; i < live.length; i += WRITE_BATCH) {
      const batch = live.slice(i, i + WRITE_BATCH);
      const keys = batch.map((m) => REVOCATION_KEYS.marker(m.kind, m.id));
      const args = batch.flatMap((m) => [
        String(m.revokedAtMs),
        String(m.expiresAtMs === null ? 0 : m.expiresAtMs + graceMs),
      ]);
      await this.redis.eval(WRITE_SCRIPT, keys.length, ...keys, ...args);
    }
  }

  /** Marks the mirror incomplete: every check falls back to PostgreSQL until a rebuild completes. */
  async invalidate(): Promise<void> {
    this.ensureConnected();
    const results = await this.redis.multi().del(REVOCATION_KEYS.loaded).incr(REVOCATION_KEYS.epoch).exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('invalidation transaction aborted');
  }

  async isLoaded(): Promise<boolean> {
    this.ensureConnected();
    return (await this.redis.exists(REVOCATION_KEYS.loaded)) === 1;
  }

  async acquireRebuildLock(token: string, ttlMs: number): Promise<boolean> {
    this.ensureConnected();
    return (await this.redis.set(REVOCATION_KEYS.rebuildLock, token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async epoch(): Promise<string> {
    this.ensureConnected();
    return (await this.redis.get(REVOCATION_KEYS.epoch)) ?? '0';
  }

  async finishRebuild(token: string, epoch: string, loadedValue: string): Promise<boolean> {
    this.ensureConnected();
    const done = await this.redis.eval(
      FINISH_REBUILD_SCRIPT,
      3,
      REVOCATION_KEYS.rebuildLock,
      REVOCATION_KEYS.epoch,
      REVOCATION_KEYS.loaded,
      token,
      epoch,
      loadedValue,
    );
    return done === 1;
  }

  async releaseRebuildLock(token: string): Promise<void> {
    await this.redis.eval(RELEASE_LOCK_SCRIPT, 1, REVOCATION_KEYS.rebuildLock, token);
  }
}

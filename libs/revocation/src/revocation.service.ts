import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { EntityManager } from 'typeorm';
import {
  AfterCommit,
  Clock,
  inSpan,
  ReadinessRegistry,
  ServiceUnavailableProblem,
  setSpanAttributes,
} from '@agentauth/core';
import {
  checkRefs,
  markerRevokes,
  normalizeMarkers,
  type RevocationMarker,
  type RevocationRef,
  type StoredMarker,
} from './revocation-marker';
import { RevocationMirror } from './revocation-mirror';
import { RevocationRepository } from './revocation.repository';
import {
  REVOCATION_EXPIRY_GRACE_MS,
  REVOCATION_PROBE_INTERVAL_MS,
  REVOCATION_REBUILD_CHUNK,
  REVOCATION_REBUILD_LOCK_TTL_MS,
} from './revocation.constants';

/** Neither Redis nor PostgreSQL could answer: callers treat the token as inactive (or answer 503). */
export class RevocationStateUnavailableError extends ServiceUnavailableProblem {
  constructor() {
    super('Revocation state is unavailable');
    this.name = 'RevocationStateUnavailableError';
  }
}

export type RebuildOutcome = 'rebuilt' | 'busy' | 'superseded';

export const REVOCATION_READINESS_CHECK = 'revocation_state';

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Durable revocation state (CONTRACT §4; docs/tokens.md, "Revocation state"). PostgreSQL is the truth;
 * Redis holds a complete copy for one-round-trip checks, marked complete by a sentinel key. Whenever the
 * copy may be incomplete (flushed, restarted, a write failed) the sentinel is gone, every check answers
 * from PostgreSQL and the copy is rebuilt; `/ready` is down meanwhile.
 */
@Injectable()
export class RevocationService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  /** A mirror write failed and the sentinel could not be removed either: this process distrusts Redis. */
  private invalidationPending = false;
  private rebuilding: Promise<RebuildOutcome> | null = null;
  private lastRebuildAttemptMs = -Infinity;
  private lastRedisWarningMs = -Infinity;
  private probeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly repository: RevocationRepository,
    private readonly mirror: RevocationMirror,
    private readonly afterCommit: AfterCommit,
    private readonly logger: PinoLogger,
    @Optional() private readonly readiness?: ReadinessRegistry,
  ) {
    this.logger.setContext('RevocationService');
  }

  onModuleInit(): void {
    this.readiness?.register({ name: REVOCATION_READINESS_CHECK, check: () => this.readinessCheck() });
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      if (!(await this.mirror.isLoaded())) await this.rebuild();
    } catch (error) {
      // Not fatal: checks answer from PostgreSQL and the probe keeps trying; /ready stays down meanwhile.
      this.logger.warn({ error: errorMessage(error) }, 'revocation state not loaded at start-up');
    }
    this.probeTimer = setInterval(() => void this.probe(), REVOCATION_PROBE_INTERVAL_MS);
    this.probeTimer.unref();
  }

  onApplicationShutdown(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  /**
   * Records revocations durably, then mirrors them to Redis.
   *
   * - Without `manager` (or with one outside a transaction): written in one statement, mirrored before
   *   this resolves.
   * - With the `manager` of a running transaction: written in that transaction; mirrored by a commit hook
   *   right after COMMIT (before `dataSource.transaction()` resolves), dropped on rollback. Nothing to call.
   *
   * `agent` markers kill tokens issued at or before `at` (re-suspending moves `at` forward, never back);
   * every other kind kills every token referencing it. A failed Redis write never leaves a revoked token
   * looking active: the mirror is marked incomplete and checks go to PostgreSQL until it is rebuilt.
   */
  async revoke(markers: readonly RevocationMarker[], manager?: EntityManager): Promise<void> {
    const normalized = normalizeMarkers(markers, this.clock.now());
    if (normalized.length === 0) return;
    const stored = await this.repository.upsert(normalized, manager);
    if (manager?.queryRunner?.isTransactionActive) {
      // Never throws after COMMIT (AfterCommit logs): the transaction is committed whatever happens.
      await this.afterCommit.schedule(manager, () => this.publish(stored));
      return;
    }
    if (!(await this.publish(stored))) {
      // Durable, but other processes may not see it yet: tell the caller (a retry is idempotent).
      throw new RevocationStateUnavailableError();
    }
  }

  /**
   * The hot path: is a token issued at `issuedAtSec` (its `iat`) that references `refs` revoked? One Redis
   * round trip when the mirror is loaded; otherwise one indexed PostgreSQL query (and a background
   * rebuild). Throws `RevocationStateUnavailableError` when neither answers — fail closed.
   */
  async isRevoked(refs: readonly RevocationRef[], issuedAtSec: number): Promise<boolean> {
    checkRefs(refs);
    if (refs.length === 0) return false;
    return inSpan('revocation.check', { attributes: { 'revocation.refs': refs.length } }, async (span) => {
      if (!this.invalidationPending && this.mirror.connected) {
        try {
          const { loaded, values } = await this.mirror.check(refs);
          if (loaded) {
            const revoked = refs.some((ref, i) => {
              const revokedAtMs = values[i];
              return revokedAtMs !== null && markerRevokes(ref.kind, revokedAtMs, issuedAtSec);
            });
            setSpanAttributes(span, { 'revocation.source': 'redis', 'revocation.revoked': revoked });
            return revoked;
          }
          this.rebuildInBackground();
        } catch (error) {
          this.warnRedis(error);
        }
      }
      const revoked = await this.isRevokedInDatabase(refs, issuedAtSec);
      setSpanAttributes(span, { 'revocation.source': 'database', 'revocation.revoked': revoked });
      return revoked;
    });
  }

  /**
   * Copies every live marker from PostgreSQL to Redis, then sets the sentinel — unless another process
   * holds the rebuild lock (`busy`) or the mirror was invalidated while copying (`superseded`; try again).
   */
  rebuild(): Promise<RebuildOutcome> {
    if (!this.rebuilding) {
      this.lastRebuildAttemptMs = performance.now();
      this.rebuilding = this.runRebuild().finally(() => {
        this.rebuilding = null;
      });
    }
    return this.rebuilding;
  }

  /** True when Redis holds the complete state (the sentinel is present and this process trusts it). */
  async isLoaded(): Promise<boolean> {
    return !this.invalidationPending && (await this.mirror.isLoaded());
  }

  /** For the maintenance job: deletes markers that can no longer match any token. Returns the count. */
  async purgeExpired(): Promise<number> {
    const purged = await this.repository.purgeExpired(
      new Date(this.clock.nowMs() - REVOCATION_EXPIRY_GRACE_MS),
    );
    if (purged > 0) this.logger.info({ purged }, 'expired revocation markers purged');
    return purged;
  }

  private async isRevokedInDatabase(refs: readonly RevocationRef[], issuedAtSec: number): Promise<boolean> {
    let found: StoredMarker[];
    try {
      found = await this.repository.findMatching(refs);
    } catch (error) {
      this.logger.error({ error: errorMessage(error) }, 'revocation state unavailable (PostgreSQL failed)');
      throw new RevocationStateUnavailableError();
    }
    return found.some((marker) => markerRevokes(marker.kind, marker.revokedAtMs, issuedAtSec));
  }

  /**
   * Mirrors stored markers; on failure makes sure nobody trusts the mirror until it is rebuilt. False when
   * even that failed (only this process knows the mirror is incomplete).
   */
  private async publish(markers: StoredMarker[]): Promise<boolean> {
    try {
      await this.mirror.write(markers, this.clock.nowMs(), REVOCATION_EXPIRY_GRACE_MS);
      return true;
    } catch (error) {
      this.logger.warn(
        { error: errorMessage(error), markers: markers.length },
        'revocation mirror write failed; falling back to PostgreSQL until rebuilt',
      );
      return this.invalidate();
    }
  }

  private async invalidate(): Promise<boolean> {
    try {
      await this.mirror.invalidate();
      this.invalidationPending = false;
      this.rebuildInBackground(true);
      return true;
    } catch (error) {
      // Redis is unreachable: this process answers from PostgreSQL and retries from the probe. Other
      // processes see the same outage (their own checks fail over) unless only this process's link broke.
      this.invalidationPending = true;
      this.logger.error({ error: errorMessage(error) }, 'could not invalidate the revocation mirror');
      return false;
    }
  }

  private async runRebuild(): Promise<RebuildOutcome> {
    const token = randomUUID();
    if (!(await this.mirror.acquireRebuildLock(token, REVOCATION_REBUILD_LOCK_TTL_MS))) return 'busy';
    try {
      const startedMs = performance.now();
      const epoch = await this.mirror.epoch();
      const notExpiredBefore = new Date(this.clock.nowMs() - REVOCATION_EXPIRY_GRACE_MS);
      let after: StoredMarker | null = null;
      let count = 0;
      for (;;) {
        const chunk = await this.repository.loadChunk(after, REVOCATION_REBUILD_CHUNK, notExpiredBefore);
        if (chunk.length === 0) break;
        await this.mirror.write(chunk, this.clock.nowMs(), REVOCATION_EXPIRY_GRACE_MS);
        count += chunk.length;
        after = chunk[chunk.length - 1];
        if (chunk.length < REVOCATION_REBUILD_CHUNK) break;
      }
      const finished = await this.mirror.finishRebuild(token, epoch, this.clock.now().toISOString());
      const durationMs = Math.round(performance.now() - startedMs);
      if (!finished) {
        this.logger.warn(
          { markers: count, duration_ms: durationMs },
          'revocation rebuild superseded; will retry',
        );
        return 'superseded';
      }
      this.logger.info({ markers: count, duration_ms: durationMs }, 'revocation state loaded into Redis');
      return 'rebuilt';
    } finally {
      await this.mirror.releaseRebuildLock(token).catch(() => undefined);
    }
  }

  /** At most one attempt per second per process (a busy lock elsewhere is not hammered by every check). */
  private rebuildInBackground(force = false): void {
    if (this.rebuilding) return;
    if (!force && performance.now() - this.lastRebuildAttemptMs < 1000) return;
    this.rebuild().then(
      (outcome) => {
        if (outcome === 'superseded') this.lastRebuildAttemptMs = -Infinity;
      },
      (error: unknown) => this.logger.warn({ error: errorMessage(error) }, 'revocation rebuild failed'),
    );
  }

  private async probe(): Promise<void> {
    try {
      if (this.invalidationPending) {
        await this.invalidate();
        if (this.invalidationPending) return;
      }
      if (!(await this.mirror.isLoaded())) await this.rebuild();
    } catch (error) {
      this.warnRedis(error);
    }
  }

  private async readinessCheck(): Promise<true | string> {
    if (this.invalidationPending) return 'a revocation could not be mirrored to Redis; waiting to rebuild';
    if (!(await this.mirror.isLoaded())) {
      this.rebuildInBackground();
      return 'revocation state is not loaded into Redis';
    }
    return true;
  }

  /** One warning per 10 s while Redis misbehaves (every request would log otherwise). */
  private warnRedis(error: unknown): void {
    const now = performance.now();
    if (now - this.lastRedisWarningMs < 10_000) return;
    this.lastRedisWarningMs = now;
    this.logger.warn(
      { error: errorMessage(error) },
      'revocation mirror unavailable; answering from PostgreSQL',
    );
  }
}

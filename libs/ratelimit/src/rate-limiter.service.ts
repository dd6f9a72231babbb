import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { AuditService } from '@agentauth/audit';
import { APP_CONFIG, type AppConfig, Clock, isInProcessRedis, REDIS } from '@agentauth/core';
import {
  agentBucket,
  bucketKeys,
  bucketKind,
  HOUR_MS,
  ipBucket,
  isValidBucket,
  MINUTE_MS,
  namedIpBucket,
} from './buckets';
import {
  decodeScriptReply,
  failedOpenOutcome,
  type RateLimitOutcome,
  type RateLimitResult,
  type RateLimitSpec,
} from './rate-limit-decision';
import {
  OVERRIDE_CACHE_MAX,
  OVERRIDE_CACHE_TTL_MS,
  RATE_LIMIT_OVERRIDES,
  type RateLimitOverrides,
  validOverride,
} from './rate-limit-overrides';
import { LEASE_LIFETIME_MS, leasable, QuotaLeases } from './quota-lease';
import { InMemorySlidingWindow } from './sliding-window.in-memory';
import { SLIDING_WINDOW_COMMAND, SLIDING_WINDOW_LUA } from './sliding-window.script';

/** Who a check is about: the audit event and the log line of a rejection carry it. */
export interface RateLimitContext {
  ip?: string;
  agentId?: string;
  rootAgentId?: string;
  requestId?: string;
}

/** Emitted for every refused request (`first` once per bucket and window) — the metrics hook. */
export interface RateLimitRejection {
  /** `agent`, `ip`, `bootstrap`, … (first segment of the bucket). */
  kind: string;
  bucket: string;
  first: boolean;
}

/** Emitted each time a check could not reach Redis and the request was let through. */
export interface RateLimitFailOpen {
  error: string;
}

/** At most one "failing open" error line per this interval (with the number of suppressed ones). */
export const FAIL_OPEN_LOG_INTERVAL_MS = 10_000;

type ScriptClient = Redis & {
  [SLIDING_WINDOW_COMMAND](numKeys: number, ...args: (string | number)[]): Promise<unknown>;
};

/**
 * Sliding-window rate limits in Redis (a sliding log per bucket; docs/rate-limiting.md says why). One
 * script call (EVALSHA) per check, atomic across API processes, with the app Clock's time. When Redis
 * cannot be asked, the limiter fails open: availability of authentication beats limiting.
 */
@Injectable()
export class RateLimiterService {
  private readonly redis: ScriptClient;
  private readonly memberPrefix = randomBytes(6).toString('base64url');
  private sequence = 0;
  private everReady = false;
  private readonly rejectionListeners: ((event: RateLimitRejection) => void)[] = [];
  private readonly failOpenListeners: ((event: RateLimitFailOpen) => void)[] = [];
  private failOpenTotal = 0;
  private lastFailOpenLogMs = Number.NEGATIVE_INFINITY;
  private suppressedFailOpenLogs = 0;
  /** Quota leases of busy buckets (quota-lease.ts); none in embedded mode, whose check is in memory. */
  private readonly leases: QuotaLeases | undefined;
  private readonly overrideCache = new Map<
    string,
    { value: Promise<number | undefined>; expiresAt: number }
  >();

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RATE_LIMIT_OVERRIDES) private readonly overrides: RateLimitOverrides,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('RateLimiter');
    if (isInProcessRedis(redis)) {
      // Embedded mode (one process): the same check in memory; the in-process Redis cannot run the script.
      const window = new InMemorySlidingWindow();
      Object.defineProperty(redis, SLIDING_WINDOW_COMMAND, {
        value: (numKeys: number, ...keysAndArgs: (string | number)[]) =>
          Promise.resolve(window.run(keysAndArgs.slice(0, numKeys) as string[], keysAndArgs.slice(numKeys))),
        configurable: true,
      });
    } else if (!(SLIDING_WINDOW_COMMAND in redis)) {
      // ioredis sends EVAL the first time on a connection, then EVALSHA; NOSCRIPT (script cache flushed)
      // falls back to EVAL transparently. The client's keyPrefix is applied to KEYS.
      redis.defineCommand(SLIDING_WINDOW_COMMAND, { lua: SLIDING_WINDOW_LUA });
    }
    this.leases = isInProcessRedis(redis) ? undefined : new QuotaLeases();
    this.redis = redis as ScriptClient;
    this.everReady = redis.status === 'ready';
    redis.on('ready', () => {
      this.everReady = true;
    });
  }

  /** Counts one request against `bucket` if it has room: `limit` requests per sliding `windowMs`. */
  async consume(
    bucket: string,
    limit: number,
    windowMs: number,
    context: RateLimitContext = {},
  ): Promise<RateLimitResult> {
    return (await this.evaluate([{ bucket, limit, windowMs }], context)).decisive;
  }

  /** Whether `bucket` has room for one more request, without counting one. */
  async check(
    bucket: string,
    limit: number,
    windowMs: number,
    context: RateLimitContext = {},
  ): Promise<RateLimitResult> {
    return (await this.evaluate([{ bucket, limit, windowMs, mode: 'check' }], context)).decisive;
  }

  /** The per-agent limit (per minute): the agent's override, else RATE_LIMIT_AGENT_PER_MINUTE. */
  async agentLimit(agentId: string): Promise<number> {
    return (await this.cachedOverride(agentId)) ?? this.config.rateLimitAgentPerMinute;
  }

  /** One request of an authenticated agent (the guard does this for every `@Auth` route). */
  async consumeAgent(agentId: string, context: RateLimitContext = {}): Promise<RateLimitResult> {
    return this.consume(agentBucket(agentId), await this.agentLimit(agentId), MINUTE_MS, {
      agentId,
      ...context,
    });
  }

  /** One unauthenticated request from `ip` (RATE_LIMIT_IP_PER_MINUTE). */
  async consumeIp(ip: string, context: RateLimitContext = {}): Promise<RateLimitResult> {
    return this.consume(ipBucket(ip), this.config.rateLimitIpPerMinute, MINUTE_MS, { ip, ...context });
  }

  /**
   * Whether `ip` may still try to authenticate (the guard asks this on the OAuth endpoints, where only
   * failures count): refused once unauthenticated calls and failed client authentications reached the limit.
   */
  async checkIp(ip: string, context: RateLimitContext = {}): Promise<RateLimitResult> {
    return this.check(ipBucket(ip), this.config.rateLimitIpPerMinute, MINUTE_MS, { ip, ...context });
  }

  /**
   * A failed client authentication (token, introspection, revocation endpoints) counts against the IP's
   * limit. The token endpoint calls this after answering `invalid_client` is decided; the next request
   * from that IP is refused by the guard once the limit is reached.
   */
  async recordFailedClientAuth(ip: string, context: RateLimitContext = {}): Promise<RateLimitResult> {
    return this.consumeIp(ip, context);
  }

  /** One bootstrap attempt from `ip` (BOOTSTRAP_RATE_LIMIT_PER_HOUR): replaces the agents module's counter. */
  async consumeBootstrap(ip: string, context: RateLimitContext = {}): Promise<RateLimitResult> {
    return this.consume(namedIpBucket('bootstrap', ip), this.config.bootstrapRateLimitPerHour, HOUR_MS, {
      ip,
      ...context,
    });
  }

  /**
   * Checks several buckets in one round trip, all-or-nothing: the request is counted in every `consume`
   * bucket only when every bucket has room. A busy single bucket is served from its quota lease.
   */
  async evaluate(specs: readonly RateLimitSpec[], context: RateLimitContext = {}): Promise<RateLimitOutcome> {
    validateSpecs(specs);
    if (this.leases && leasable(specs)) return this.evaluateLeased(this.leases, specs, context);
    return this.evaluateInRedis(specs, context, 1);
  }

  private async evaluateLeased(
    leases: QuotaLeases,
    specs: readonly RateLimitSpec[],
    context: RateLimitContext,
  ): Promise<RateLimitOutcome> {
    const spec = specs[0];
    // One lease at a time per bucket: requests arriving while it is taken wait for it, then spend from it.
    for (;;) {
      const local = leases.spend(spec, this.clock.nowMs());
      if (local) return this.answeredLocally(local, specs, context);
      const pending = leases.pending(spec.bucket);
      if (!pending) break;
      await pending.catch(() => undefined); // its own request answers its failure
    }
    const now = Math.floor(this.clock.nowMs());
    const asked = leases.ask(spec, now);
    return leases.taking(
      spec.bucket,
      this.evaluateInRedis(specs, context, asked, now).then((outcome): RateLimitOutcome => {
        if (outcome.failedOpen) return outcome;
        // The lease's lifetime runs from the time the script counted its slots at, not from the reply.
        const own = leases.record(spec, outcome.decisive, asked, now);
        return { ...outcome, decisive: own, results: [own] };
      }),
    );
  }

  private async answeredLocally(
    result: RateLimitResult,
    specs: readonly RateLimitSpec[],
    context: RateLimitContext,
  ): Promise<RateLimitOutcome> {
    const outcome: RateLimitOutcome = {
      allowed: result.allowed,
      decisive: result,
      results: [result],
      firstRejection: false,
      failedOpen: false,
    };
    if (!outcome.allowed) await this.rejected(outcome, specs, context);
    return outcome;
  }

  /**
   * One script call at app time `now`; `ask` is how many requests a counted bucket takes (more than one: a
   * lease).
   */
  private async evaluateInRedis(
    specs: readonly RateLimitSpec[],
    context: RateLimitContext,
    ask: number,
    now = Math.floor(this.clock.nowMs()),
  ): Promise<RateLimitOutcome> {
    if (!this.redisUsable()) {
      return this.failOpen(specs, new Error(`redis is not connected (${this.redis.status})`));
    }
    const member = `${this.memberPrefix}${(this.sequence++).toString(36)}`;
    const keys: string[] = [];
    const args: (string | number)[] = [now, member, LEASE_LIFETIME_MS];
    for (const spec of specs) {
      const { log, rejected } = bucketKeys(spec.bucket);
      keys.push(log, rejected);
      args.push(spec.limit, spec.windowMs, spec.mode === 'check' ? 0 : ask);
    }
    let outcome: RateLimitOutcome;
    try {
      const reply = await this.redis[SLIDING_WINDOW_COMMAND](keys.length, ...keys, ...args);
      outcome = decodeScriptReply(reply, specs, now);
    } catch (error) {
      return this.failOpen(specs, error);
    }
    if (!outcome.allowed) await this.rejected(outcome, specs, context);
    return outcome;
  }

  /** Subscribes to every refused request (the metrics counter). Returns the unsubscribe function. */
  onRejected(listener: (event: RateLimitRejection) => void): () => void {
    return subscribe(this.rejectionListeners, listener);
  }

  /** Subscribes to every fail-open (the "limiter degraded" metric). Returns the unsubscribe function. */
  onFailOpen(listener: (event: RateLimitFailOpen) => void): () => void {
    return subscribe(this.failOpenListeners, listener);
  }

  /** Requests let through unchecked because Redis could not be asked, since start-up. */
  get failOpenCount(): number {
    return this.failOpenTotal;
  }

  private async rejected(
    outcome: RateLimitOutcome,
    specs: readonly RateLimitSpec[],
    context: RateLimitContext,
  ): Promise<void> {
    const { bucket, limit } = outcome.decisive;
    const kind = bucketKind(bucket);
    emit(this.rejectionListeners, { kind, bucket, first: outcome.firstRejection }, this.logger);
    if (!outcome.firstRejection) {
      this.logger.debug(
        { bucket, agent_id: context.agentId ?? null, ip: context.ip ?? null },
        'rate limited again',
      );
      return;
    }
    const windowMs = specs.find((s) => s.bucket === bucket)?.windowMs ?? MINUTE_MS;
    this.logger.warn(
      { bucket, agent_id: context.agentId ?? null, ip: context.ip ?? null, limit },
      'rate limited',
    );
    try {
      await this.audit.record({
        eventType: 'rate_limit.exceeded',
        outcome: 'denied',
        actorAgentId: context.agentId ?? null,
        rootAgentId: context.rootAgentId ?? null,
        ip: context.ip ?? null,
        requestId: context.requestId ?? null,
        details: { bucket, kind, limit, window_seconds: Math.round(windowMs / 1000) },
      });
    } catch (error) {
      // The refusal stands either way; a lost audit row must be visible to operators.
      this.logger.error(
        { bucket, error: error instanceof Error ? error.message : String(error) },
        'rate_limit.exceeded audit event could not be recorded',
      );
    }
  }

  /**
   * Before the first connection commands wait in ioredis's offline queue (bounded by its retry policy);
   * once the connection was up and is lost, checks fail open at once instead of queueing behind it.
   */
  private redisUsable(): boolean {
    const status = this.redis.status;
    if (status === 'ready') return true;
    return !this.everReady && (status === 'wait' || status === 'connecting' || status === 'connect');
  }

  private failOpen(specs: readonly RateLimitSpec[], error: unknown): RateLimitOutcome {
    this.failOpenTotal++;
    const message = error instanceof Error ? error.message : String(error);
    emit(this.failOpenListeners, { error: message }, this.logger);
    const now = this.clock.nowMs();
    if (now - this.lastFailOpenLogMs >= FAIL_OPEN_LOG_INTERVAL_MS) {
      this.logger.error(
        {
          component: 'ratelimit',
          error: message,
          suppressed: this.suppressedFailOpenLogs,
          fail_open_total: this.failOpenTotal,
        },
        'rate limiter unavailable: failing open',
      );
      this.lastFailOpenLogMs = now;
      this.suppressedFailOpenLogs = 0;
    } else {
      this.suppressedFailOpenLogs++;
    }
    return failedOpenOutcome(specs);
  }

  private cachedOverride(agentId: string): Promise<number | undefined> {
    const now = this.clock.nowMs();
    const cached = this.overrideCache.get(agentId);
    if (cached && cached.expiresAt > now) return cached.value;
    if (cached) this.overrideCache.delete(agentId);
    const value = this.overrides.agentLimitPerMinute(agentId).then(validOverride, (error: unknown) => {
      this.logger.warn(
        { agent_id: agentId, error: error instanceof Error ? error.message : String(error) },
        'rate-limit override lookup failed; using the default limit',
      );
      this.overrideCache.delete(agentId);
      return undefined;
    });
    if (this.overrideCache.size >= OVERRIDE_CACHE_MAX) {
      const oldest = this.overrideCache.keys().next();
      if (!oldest.done) this.overrideCache.delete(oldest.value);
    }
    this.overrideCache.set(agentId, { value, expiresAt: now + OVERRIDE_CACHE_TTL_MS });
    return value;
  }
}

function validateSpecs(specs: readonly RateLimitSpec[]): void {
  if (specs.length === 0) throw new Error('a rate-limit check needs at least one bucket');
  const seen = new Set<string>();
  for (const spec of specs) {
    if (!isValidBucket(spec.bucket)) throw new Error(`invalid rate-limit bucket: ${spec.bucket}`);
    if (seen.has(spec.bucket)) throw new Error(`duplicate rate-limit bucket: ${spec.bucket}`);
    seen.add(spec.bucket);
    if (!Number.isInteger(spec.limit) || spec.limit < 1) throw new Error(`invalid limit for ${spec.bucket}`);
    if (!Number.isInteger(spec.windowMs) || spec.windowMs < 1)
      throw new Error(`invalid window for ${spec.bucket}`);
  }
}

function subscribe<T>(listeners: ((event: T) => void)[], listener: (event: T) => void): () => void {
  listeners.push(listener);
  return () => {
    const index = listeners.indexOf(listener);
    if (index !== -1) listeners.splice(index, 1);
  };
}

function emit<T>(listeners: readonly ((event: T) => void)[], event: T, logger: PinoLogger): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (error) {
      logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        'rate-limit listener failed',
      );
    }
  }
}

import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import type { EntityManager } from 'typeorm';
import {
  ActionableStartupError,
  APP_CONFIG,
  type AppConfig,
  Clock,
  embeddedDataDirForDisplay,
  REDIS,
} from '@agentauth/core';
import { KeyRing, type RingKey } from './key-ring';
import {
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  type PublicSigningJwk,
  signingKeyEncryptionKey,
} from './key-material';
import {
  CLOCK_SKEW_SECONDS,
  KEY_PROPAGATION_SECONDS,
  KEY_RING_REFRESH_INTERVAL_MS,
  DEMAND_REFRESH_INTERVAL_MS,
} from './keys.constants';
import { type SigningKeyRow, SigningKeysRepository, type SigningKeyState } from './signing-keys.repository';

/** A signing key's public metadata (no key material). */
export interface SigningKeyInfo {
  kid: string;
  state: SigningKeyState;
  createdAt: Date;
  activatesAt: Date;
  retiringAt: Date | null;
  retireAfter: Date | null;
  retiredAt: Date | null;
  maxDelegationExp: Date | null;
}

/** What one `advance()` changed. */
export interface AdvanceResult {
  /** The published key that became active, if any. */
  activated: string | null;
  /** Keys that moved active → retiring. */
  retiring: string[];
  /** Keys that left JWKS (retiring → retired, or published keys overtaken before they ever signed). */
  retired: string[];
}

function info(row: SigningKeyRow): SigningKeyInfo {
  return {
    kid: row.kid,
    state: row.state,
    createdAt: row.createdAt,
    activatesAt: row.activatesAt,
    retiringAt: row.retiringAt,
    retireAfter: row.retireAfter,
    retiredAt: row.retiredAt,
    maxDelegationExp: row.maxDelegationExp,
  };
}

/**
 * The life cycle of the signing-key set and this process's view of it (the `KeyRing`).
 *
 * - start-up: makes sure an active key exists (the first process on an empty table creates one), loads the
 *   ring, subscribes to key-set changes and starts the periodic refresh;
 * - `rotate()` publishes a new key that activates one JWKS max-age (+ propagation) later;
 * - `advance()` performs the due transitions (idempotent; the worker schedules it and every API process also
 *   runs it on its refresh tick when its ring shows a transition is due).
 * Every state change is announced on a Redis channel so every process reloads at once.
 */
@Injectable()
export class SigningKeysService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly encryptionKey: Buffer;
  /** Pub/sub channels are not prefixed by ioredis: the key prefix is added here (one channel per deployment). */
  readonly changesChannel: string;
  private subscriber: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | null = null;
  private reloadRequested = false;
  private demandRefresh: { atMs: number; done: Promise<void> } | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly repository: SigningKeysRepository,
    private readonly ring: KeyRing,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('SigningKeysService');
    this.encryptionKey = signingKeyEncryptionKey(config.secretKey);
    this.changesChannel = `${config.redisKeyPrefix}signing-keys:changed`;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureActiveKey();
    await this.refresh();
    this.subscribe();
    this.timer = setInterval(() => void this.tick(), KEY_RING_REFRESH_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    // A subscriber has nothing to flush: close it at once (quit would wait for a reconnect when Redis is down).
    subscriber?.disconnect();
  }

  /** Token lifetime bound used by the signer and by `retire_after`. */
  get accessTokenLifetimeMs(): number {
    return this.config.accessTokenExpireMinutes * 60_000;
  }

  /**
   * Makes sure a key is active: performs due transitions, and when no key is active (empty table, or every
   * key retired during a long outage) creates one active at once — nothing can have cached a JWKS
   * expecting anything else. Safe when several processes start together (they queue on the lock).
   */
  async ensureActiveKey(): Promise<{ kid: string; created: boolean }> {
    const now = this.clock.now();
    const result = await this.repository.inLockedTransaction(async (m) => {
      const changes = await this.advanceLocked(m, now);
      const active = await this.repository.findActive(m);
      if (active) return { kid: active.kid, created: false, changed: hasChanges(changes) };
      const key = await generateSigningKey(this.encryptionKey);
      await this.repository.insert(m, {
        kid: key.kid,
        state: 'active',
        publicJwk: key.publicJwk,
        privateKeyEncrypted: key.privateKeyEncrypted,
        createdAt: now,
        activatesAt: now,
      });
      return { kid: key.kid, created: true, changed: true };
    });
    if (result.created) this.logger.info({ kid: result.kid }, 'signing key created and activated');
    if (result.changed) await this.announceChange();
    return { kid: result.kid, created: result.created };
  }

  /**
   * Key rotation, step 1 (the worker schedules it): a new key in state `published`, served in JWKS from now
   * on and signing from `activates_at` = now + JWKS max-age + propagation margin (after `advance()` ran).
   * Idempotent: while a published key is waiting, returns that key instead of creating another.
   */
  async rotate(): Promise<SigningKeyInfo> {
    const now = this.clock.now();
    const activatesAt = new Date(
      now.getTime() + (this.config.jwksMaxAgeSeconds + KEY_PROPAGATION_SECONDS) * 1000,
    );
    const { row, created } = await this.repository.inLockedTransaction(async (m) => {
      const waiting = await this.repository.findPublished(m);
      if (waiting.length > 0) return { row: waiting[0], created: false };
      const key = await generateSigningKey(this.encryptionKey);
      const inserted = await this.repository.insert(m, {
        kid: key.kid,
        state: 'published',
        publicJwk: key.publicJwk,
        privateKeyEncrypted: key.privateKeyEncrypted,
        createdAt: now,
        activatesAt,
      });
      return { row: inserted, created: true };
    });
    if (created) {
      this.logger.info(
        { kid: row.kid, activates_at: row.activatesAt.toISOString() },
        'signing key published',
      );
      await this.announceChange();
    }
    return info(row);
  }

  /**
   * Key rotation, step 2 (idempotent): activates the newest due published key (the previous active key
   * becomes `retiring` until every token it signed has expired) and retires keys past `retire_after`.
   */
  async advance(): Promise<AdvanceResult> {
    const now = this.clock.now();
    const result = await this.repository.inLockedTransaction((m) => this.advanceLocked(m, now));
    if (hasChanges(result)) {
      this.logger.info(
        { activated: result.activated, retiring: result.retiring, retired: result.retired },
        'signing keys advanced',
      );
      await this.announceChange();
    }
    return result;
  }

  /** Every key ever created, newest first (operations and tests; no key material). */
  async describeKeys(): Promise<SigningKeyInfo[]> {
    return (await this.repository.findAll()).map(info);
  }

  /** The public keys served by `GET /auth/jwks`. */
  jwks(): readonly PublicSigningJwk[] {
    return this.ring.jwks();
  }

  /**
   * Reloads the ring from PostgreSQL. Concurrent calls share one reload; a call made while a reload runs
   * causes one more afterwards (so a change announced mid-reload is never missed).
   */
  refresh(): Promise<void> {
    this.reloadRequested = true;
    if (!this.reloading) {
      this.reloading = (async () => {
        try {
          while (this.reloadRequested) {
            this.reloadRequested = false;
            await this.loadRing();
          }
        } finally {
          this.reloading = null;
        }
      })();
    }
    return this.reloading;
  }

  /**
   * A reload asked for by traffic (the verifier meeting an unknown `kid`, the signer finding no usable key):
   * at most one per `DEMAND_REFRESH_INTERVAL_MS`; callers within the interval share that reload.
   */
  refreshOnDemand(): Promise<void> {
    const nowMs = performance.now();
    if (this.demandRefresh && nowMs - this.demandRefresh.atMs < DEMAND_REFRESH_INTERVAL_MS) {
      return this.demandRefresh.done;
    }
    const done = this.refresh().catch((error: unknown) => {
      this.logger.warn({ error: errorMessage(error) }, 'on-demand key ring refresh failed');
    });
    this.demandRefresh = { atMs: nowMs, done };
    return done;
  }

  private async advanceLocked(m: EntityManager, now: Date): Promise<AdvanceResult> {
    const due = (await this.repository.findPublished(m)).filter((k) => k.activatesAt <= now);
    let activated: string | null = null;
    let retiring: string[] = [];
    const retired: string[] = [];
    if (due.length > 0) {
      const [next, ...overtaken] = due;
      const minRetireAfter = new Date(
        now.getTime() + this.accessTokenLifetimeMs + (CLOCK_SKEW_SECONDS + KEY_PROPAGATION_SECONDS) * 1000,
      );
      retiring = await this.repository.retireActive(m, now, minRetireAfter, CLOCK_SKEW_SECONDS * 1000);
      await this.repository.activate(m, next.kid);
      activated = next.kid;
      const unused = overtaken.map((k) => k.kid);
      await this.repository.retireUnused(m, unused, now);
      retired.push(...unused);
    }
    retired.push(...(await this.repository.retireExpired(m, now)));
    return { activated, retiring, retired };
  }

  private async loadRing(): Promise<void> {
    const rows = await this.repository.findLive();
    const keys: RingKey[] = rows.map((row) => {
      const existing = this.ring.get(row.kid);
      const state = row.state as RingKey['state'];
      const maySign = state === 'active' || state === 'retiring';
      let privateKey = maySign ? existing?.privateKey : undefined;
      if (maySign && !privateKey) {
        if (!row.privateKeyEncrypted) throw new Error(`signing key ${row.kid} has no private key`);
        try {
          privateKey = importPrivateKey(row.kid, row.privateKeyEncrypted, this.encryptionKey);
        } catch {
          // At start-up this stops the API with the fix (writeFatalStartupError); later, the refresh logs it.
          throw new ActionableStartupError(
            `cannot decrypt signing key ${row.kid}: SECRET_KEY is not the one the signing keys were encrypted with`,
            secretKeyFix(this.config),
          );
        }
      }
      return {
        kid: row.kid,
        state,
        publicJwk: row.publicJwk,
        publicKey: existing?.publicKey ?? importPublicKey(row.publicJwk),
        privateKey,
        activatesAtMs: row.activatesAt.getTime(),
        retireAfterMs: row.retireAfter ? row.retireAfter.getTime() : null,
      };
    });
    this.ring.replace(keys, this.clock.nowMs());
  }

  /** Tells every process (this one included) to reload; reloads here before returning. */
  private async announceChange(): Promise<void> {
    try {
      await this.redis.publish(this.changesChannel, 'changed');
    } catch (error) {
      // Other processes still pick the change up on their next periodic refresh.
      this.logger.warn({ error: errorMessage(error) }, 'could not announce a signing-key change');
    }
    await this.refresh();
  }

  private subscribe(): void {
    const subscriber = this.redis.duplicate({ enableAutoPipelining: false });
    this.subscriber = subscriber;
    let lastError = '';
    subscriber.on('error', (error: Error) => {
      if (error.message !== lastError) {
        this.logger.warn({ component: 'redis', error: error.message }, 'key-change subscriber error');
      }
      lastError = error.message;
    });
    let connectedBefore = false;
    subscriber.on('ready', () => {
      lastError = '';
      // (Re)subscribe on every connection (harmless when ioredis already resubscribed), and after a reconnect
      // reload once: messages sent while disconnected are lost.
      subscriber.subscribe(this.changesChannel).catch((error: unknown) => {
        this.logger.warn({ error: errorMessage(error) }, 'could not subscribe to signing-key changes');
      });
      if (connectedBefore) void this.refresh().catch(() => undefined);
      connectedBefore = true;
    });
    subscriber.on('message', (channel: string) => {
      if (channel !== this.changesChannel) return;
      this.refresh().catch((error: unknown) =>
        this.logger.warn({ error: errorMessage(error) }, 'key ring reload after a change message failed'),
      );
    });
  }

  private async tick(): Promise<void> {
    try {
      if (this.ring.hasDueTransition(this.clock.nowMs())) await this.advance();
      await this.refresh();
    } catch (error) {
      this.logger.warn({ error: errorMessage(error) }, 'periodic signing-key refresh failed');
    }
  }
}

function hasChanges(result: AdvanceResult): boolean {
  return result.activated !== null || result.retiring.length > 0 || result.retired.length > 0;
}

/** What to do when the signing keys do not decrypt: the old SECRET_KEY, or (embedded mode) a fresh data directory. */
function secretKeyFix(config: AppConfig): string {
  if (config.databaseUrl)
    return 'restore the previous SECRET_KEY (the database holds keys encrypted with it)';
  const dir = config.embeddedDataDir ? embeddedDataDirForDisplay(config.embeddedDataDir) : undefined;
  return dir
    ? `restore the previous SECRET_KEY, or delete ${dir} (the embedded database; all its data is lost) to start over`
    : 'restore the previous SECRET_KEY';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig, Clock, deriveKey, REDIS } from '@agentauth/core';
import { type RevocationRef, RevocationService } from '@agentauth/revocation';
import type { AuthenticatedClient } from './authenticated-client';

/** Longest time a verified key is trusted without argon2 (CONTRACT §3 asks for a short TTL). */
export const VERIFIED_KEY_CACHE_TTL_MS = 60_000;
/** HKDF purpose of the cache's HMAC key. */
export const VERIFIED_KEY_CACHE_PURPOSE = 'verified-key-cache';
const ENTRY_VERSION = 2;
/** Entries this process keeps in memory (oldest first out): a busy client's key is read from Redis once. */
const LOCAL_ENTRIES_MAX = 10_000;

/**
 * The revocation reference a rotation (or a root's scope extension) writes for its credential: "what this key
 * grants changed". It never appears in a token (neither kills tokens); the cache checks it so an entry made
 * before the change stops being trusted at once.
 */
export function rotationRef(credentialId: string): RevocationRef {
  return { kind: 'credential', id: `rotated:${credentialId}` };
}

/**
 * The revocation reference a change of `require_dpop` writes for the agent it was set on: "what was
 * established about this agent's subtree's DPoP requirement changed". It never appears in a token (it kills
 * nothing); the cache checks it for the client's agent and every ancestor (the requirement is inherited), so
 * an entry made before the change stops being trusted at once.
 */
export function dpopRequirementRef(agentId: string): RevocationRef {
  return { kind: 'agent', id: `dpop:${agentId}` };
}

/** As stored in Redis under `vk:<mac>`: facts about the key, never the key, its hash or its MAC input. */
interface CacheEntry {
  v: typeof ENTRY_VERSION;
  credential_id: string;
  agent_id: string;
  root_agent_id: string;
  scopes: string[];
  allowed_scopes: string[];
  trust_level: AuthenticatedClient['trustLevel'];
  version: string | null;
  capabilities: string[];
  ancestor_ids: string[];
  agent_expires_at: number | null;
  credential_valid_until: number | null;
  rotated: boolean;
  requires_dpop: boolean;
  /** Taken BEFORE the database read this entry was made from. */
  cached_at: number;
}

function toEntry(client: AuthenticatedClient): CacheEntry {
  return {
    v: ENTRY_VERSION,
    credential_id: client.credentialId as string, // only key-authenticated clients are cached
    agent_id: client.agentId,
    root_agent_id: client.rootAgentId,
    scopes: client.scopes,
    allowed_scopes: client.allowedScopes,
    trust_level: client.trustLevel,
    version: client.version,
    capabilities: client.capabilities,
    ancestor_ids: client.ancestorIds,
    agent_expires_at: client.agentExpiresAtMs,
    credential_valid_until: client.credentialValidUntilMs,
    rotated: client.rotated,
    requires_dpop: client.requiresDpop,
    cached_at: client.authenticatedAtMs,
  };
}

function fromEntry(entry: CacheEntry): AuthenticatedClient {
  return {
    agentId: entry.agent_id,
    rootAgentId: entry.root_agent_id,
    credentialId: entry.credential_id,
    scopes: entry.scopes,
    allowedScopes: entry.allowed_scopes,
    trustLevel: entry.trust_level,
    version: entry.version,
    capabilities: entry.capabilities,
    ancestorIds: entry.ancestor_ids,
    agentExpiresAtMs: entry.agent_expires_at,
    credentialValidUntilMs: entry.credential_valid_until,
    rotated: entry.rotated,
    requiresDpop: entry.requires_dpop,
    authenticatedAtMs: entry.cached_at,
    fromCache: true,
  };
}

function isEntry(value: unknown): value is CacheEntry {
  const e = value as Partial<CacheEntry> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.v === ENTRY_VERSION &&
    typeof e.credential_id === 'string' &&
    typeof e.agent_id === 'string' &&
    typeof e.cached_at === 'number' &&
    typeof e.requires_dpop === 'boolean' &&
    Array.isArray(e.scopes) &&
    Array.isArray(e.allowed_scopes) &&
    Array.isArray(e.ancestor_ids)
  );
}

export type CacheMissReason =
  'absent' | 'unreadable' | 'stale' | 'expired' | 'revoked_or_changed' | 'unavailable';

/**
 * The verified-key cache (docs/security.md, "Verified-key cache"): spares argon2 for a key verified moments
 * ago, shared by every API process through Redis.
 *
 * - Key: `vk:` + base64url HMAC-SHA256(HKDF(SECRET_KEY, "verified-key-cache"), client_id + ":" + raw key).
 *   Redis never holds the key or anything that can be tested offline without SECRET_KEY.
 * - Value: what the verification established (credential, agent, scopes, expiries), `cached_at` taken
 *   before the database read. Trusted for at most 60 s (by the app Clock; Redis expires it too) and never
 *   past the key's or the agent chain's end.
 * - Every hit re-checks the revocation state (ONE more Redis round trip, the same check tokens get): a
 *   `credential` marker for the key (revoked), an `agent` marker at or after `cached_at` (suspended,
 *   deactivated, narrowed, expiry shortened since), for an entry made before a rotation the rotation's
 *   marker, or a `require_dpop` change on the agent or an ancestor (`dpopRequirementRef`: the entry's
 *   `requires_dpop` spares the token endpoint a database read), each turns the hit into a miss. Those markers are written in the same transaction as
 *   the change, so no invalidation message can be lost.
 * - Each process also keeps the entries it stored or read in memory (same trust rules, same TTL), so a hit
 *   costs the revocation round trip only. This is safe for the same reason: an entry is a fact about a
 *   moment, never invalidated by deletion, and every hit asks the revocation state whether it still holds.
 */
@Injectable()
export class VerifiedKeyCache {
  private readonly macKey: Buffer;
  /** cache key → entry, insertion-ordered (the oldest is evicted first). */
  private readonly local = new Map<string, CacheEntry>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly revocation: RevocationService,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('VerifiedKeyCache');
    this.macKey = deriveKey(config.secretKey, VERIFIED_KEY_CACHE_PURPOSE);
  }

  /** The Redis key for a presented (client_id, key) pair. */
  cacheKey(clientId: string, rawKey: string): string {
    const mac = createHmac('sha256', this.macKey).update(`${clientId}:${rawKey}`, 'utf8').digest('base64url');
    return `vk:${mac}`;
  }

  /** A trusted entry, or the reason there is none (any doubt is a miss: the caller verifies in full). */
  async lookup(
    clientId: string,
    rawKey: string,
  ): Promise<{ client: AuthenticatedClient } | { miss: CacheMissReason }> {
    if (this.redis.status !== 'ready') return { miss: 'unavailable' };
    const key = this.cacheKey(clientId, rawKey);
    let entry: CacheEntry | undefined = this.local.get(key);
    if (entry !== undefined && this.clock.nowMs() - entry.cached_at >= VERIFIED_KEY_CACHE_TTL_MS) {
      // Ours is stale; another process may have stored a newer one.
      this.local.delete(key);
      entry = undefined;
    }
    if (entry === undefined) {
      let raw: string | null;
      try {
        raw = await this.redis.get(key);
      } catch {
        return { miss: 'unavailable' };
      }
      if (raw === null) return { miss: 'absent' };
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      if (!isEntry(parsed) || parsed.agent_id !== clientId) return this.drop(key, 'unreadable');
      entry = parsed;
      this.remember(key, entry);
    }
    const now = this.clock.nowMs();
    if (now - entry.cached_at >= VERIFIED_KEY_CACHE_TTL_MS || now < entry.cached_at) {
      return this.drop(key, 'stale');
    }
    if (
      (entry.credential_valid_until !== null && now >= entry.credential_valid_until) ||
      (entry.agent_expires_at !== null && now >= entry.agent_expires_at)
    ) {
      return this.drop(key, 'expired');
    }
    const refs: RevocationRef[] = [
      { kind: 'credential', id: entry.credential_id },
      { kind: 'agent', id: entry.agent_id },
    ];
    if (!entry.rotated) refs.push(rotationRef(entry.credential_id));
    // `ancestor_ids` runs from the root to the agent itself (`AuthenticatedClient.ancestorIds`).
    for (const agentId of entry.ancestor_ids) refs.push(dpopRequirementRef(agentId));
    if (entry.ancestor_ids[entry.ancestor_ids.length - 1] !== entry.agent_id)
      refs.push(dpopRequirementRef(entry.agent_id));
    try {
      if (await this.revocation.isRevoked(refs, entry.cached_at / 1000)) {
        return this.drop(key, 'revoked_or_changed');
      }
    } catch {
      return { miss: 'unavailable' };
    }
    return { client: fromEntry(entry) };
  }

  /** Remembers a successful full verification. Best effort: a failure only costs the next request argon2. */
  async store(clientId: string, rawKey: string, client: AuthenticatedClient): Promise<void> {
    const now = this.clock.nowMs();
    const ends = [
      client.authenticatedAtMs + VERIFIED_KEY_CACHE_TTL_MS,
      client.credentialValidUntilMs,
      client.agentExpiresAtMs,
    ].filter((v): v is number => v !== null);
    const ttlMs = Math.min(...ends) - now;
    if (ttlMs <= 0 || this.redis.status !== 'ready') return;
    const key = this.cacheKey(clientId, rawKey);
    const entry = toEntry(client);
    this.remember(key, entry);
    try {
      await this.redis.set(key, JSON.stringify(entry), 'PX', ttlMs);
    } catch (error) {
      this.logger.debug({ error: (error as Error).message }, 'verified-key cache write failed');
    }
  }

  private remember(key: string, entry: CacheEntry): void {
    this.local.delete(key);
    this.local.set(key, entry);
    if (this.local.size > LOCAL_ENTRIES_MAX) {
      const oldest = this.local.keys().next();
      if (!oldest.done) this.local.delete(oldest.value);
    }
  }

  private async drop(key: string, reason: CacheMissReason): Promise<{ miss: CacheMissReason }> {
    this.local.delete(key);
    await this.redis.del(key).catch(() => undefined);
    return { miss: reason };
  }
}

import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS, ServiceUnavailableProblem } from '@agentauth/core';

/** What a remembered identifier belongs to: client assertions (per agent) or DPoP proofs (per key). */
export type ReplayNamespace = 'client_assertion' | 'dpop_proof';

/**
 * THE single-use check for one-time JWT identifiers (CONTRACT §9 client assertion `jti`, §10 DPoP proof
 * `jti`): `SET key 1 NX PX ttl` — the first use of (namespace, scope, jti) wins atomically, across every API
 * process sharing Redis; in the embedded mode the in-process Redis adapter answers the same command in
 * memory (one process). Keys hold a SHA-256 of the identifiers, never the JWT. Fails closed: when Redis
 * cannot answer, the request is refused with 503 rather than accepted unchecked. docs/security.md
 * ("Replay caches") says what a Redis flush means for the window.
 */
@Injectable()
export class ReplayCache {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** True on the first use within `ttlMs`, false for a replay. */
  async firstUse(namespace: ReplayNamespace, scope: string, jti: string, ttlMs: number): Promise<boolean> {
    const digest = createHash('sha256').update(`${scope}\n${jti}`, 'utf8').digest('base64url');
    const key = `replay:${namespace}:${digest}`;
    let result: string | null;
    try {
      result = await this.redis.set(key, '1', 'PX', Math.max(1000, Math.ceil(ttlMs)), 'NX');
    } catch {
      throw new ServiceUnavailableProblem('The replay cache is unavailable; try again');
    }
    return result === 'OK';
  }
}

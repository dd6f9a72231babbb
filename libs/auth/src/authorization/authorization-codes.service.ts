import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '@agentauth/core';
import {
  type AuthorizationCodeBinding,
  AuthorizationCodesRepository,
  type StoredAuthorizationCode,
} from './authorization-codes.repository';

/** CONTRACT §11: a code lives at most 60 s (also a CHECK constraint of the table). */
export const AUTHORIZATION_CODE_TTL_SECONDS = 60;

/** How long a used or expired code is kept: a second use within it is still detected as reuse. */
const CODE_RETENTION_MS = 24 * 3600_000;

/** SHA-256 of the code, base64url (43 characters): the only form the server keeps. */
export function authorizationCodeHash(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('base64url');
}

export type { AuthorizationCodeBinding } from './authorization-codes.repository';

/** The outcome of presenting a code once. */
export type CodeRedemption =
  | { kind: 'redeemed'; code: StoredAuthorizationCode }
  /** Presented before: what the first redemption issued must die (the caller revokes it). */
  | { kind: 'reused'; code: StoredAuthorizationCode }
  | { kind: 'unknown' };

/**
 * Authorization codes: 256 random bits, handed to the browser once, stored as their SHA-256 hash in
 * PostgreSQL with their binding; single use by one atomic UPDATE (of N concurrent redemptions exactly one
 * wins; every other is reuse).
 */
@Injectable()
export class AuthorizationCodes {
  constructor(
    private readonly repository: AuthorizationCodesRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * A new code for `binding`; the raw code exists only in the return value. Approvals come at human speed,
   * so each also deletes a few codes expired more than a day ago (kept that long so a late second use is
   * still recognised as reuse): the table stays small without a scheduled job.
   */
  async issue(binding: AuthorizationCodeBinding): Promise<{ code: string; expiresAt: Date }> {
    const code = randomBytes(32).toString('base64url');
    const createdAt = this.clock.now();
    const expiresAt = new Date(createdAt.getTime() + AUTHORIZATION_CODE_TTL_SECONDS * 1000);
    await this.repository.insert({ codeHash: authorizationCodeHash(code), createdAt, expiresAt, ...binding });
    await this.repository.purgeExpired(new Date(createdAt.getTime() - CODE_RETENTION_MS), 100);
    return { code, expiresAt };
  }

  /** Uses the code once. A malformed value is simply unknown (no oracle). */
  async redeem(code: string): Promise<CodeRedemption> {
    if (typeof code !== 'string' || code.length === 0 || code.length > 256) return { kind: 'unknown' };
    const hash = authorizationCodeHash(code);
    const now = this.clock.now();
    const consumed = await this.repository.consume(hash, now);
    if (consumed) return { kind: 'redeemed', code: consumed };
    const reused = await this.repository.markReused(hash, now);
    return reused ? { kind: 'reused', code: reused } : { kind: 'unknown' };
  }
}

import { createHash, randomBytes } from 'node:crypto';

/**
 * Refresh tokens are opaque: `aa_rt_` + 32 random bytes (base64url, 43 characters, 256 bits). The marker
 * tells them from access tokens at the revocation and introspection endpoints and makes leaked ones easy
 * to find for secret scanners (and for the audit sanitizer, which redacts `aa_…_…` values).
 *
 * Stored as SHA-256 (hex), not argon2: with 256 bits of entropy nothing can be guessed, so a slow,
 * salted hash buys nothing, while a deterministic hash gives ONE indexed lookup (a unique index on the hash)
 * and the atomic rotation statement. A database dump yields no usable token.
 */
export const REFRESH_TOKEN_PREFIX = 'aa_rt_';
const REFRESH_TOKEN_PATTERN = /^aa_rt_[A-Za-z0-9_-]{43}$/;

export function generateRefreshToken(): string {
  return `${REFRESH_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function looksLikeRefreshToken(value: string): boolean {
  return value.startsWith(REFRESH_TOKEN_PREFIX);
}

/** The stored form, or null when the value cannot be a refresh token of this server. */
export function refreshTokenHash(value: string): string | null {
  if (!REFRESH_TOKEN_PATTERN.test(value)) return null;
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

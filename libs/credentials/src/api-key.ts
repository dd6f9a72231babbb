import { randomBytes, randomInt } from 'node:crypto';

/**
 * API key format: `aa_<prefix>_<secret>`.
 * - prefix: 16 characters of [a-z0-9] (≈ 82 bits), the public lookup id (unique index);
 * - secret: 32 random bytes, base64url (43 characters, 256 bits), stored only as an argon2id hash.
 * The `aa_` marker makes leaked keys easy to find with secret scanners.
 */
export const API_KEY_MARKER = 'aa';
export const API_KEY_PREFIX_LENGTH = 16;
export const API_KEY_SECRET_BYTES = 32;
const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const API_KEY_PATTERN = /^aa_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  prefix: string;
  secret: string;
}

export function generatePrefix(): string {
  let prefix = '';
  for (let i = 0; i < API_KEY_PREFIX_LENGTH; i++)
    prefix += PREFIX_ALPHABET[randomInt(PREFIX_ALPHABET.length)];
  return prefix;
}

export function generateSecret(): string {
  return randomBytes(API_KEY_SECRET_BYTES).toString('base64url');
}

export function formatApiKey(prefix: string, secret: string): string {
  return `${API_KEY_MARKER}_${prefix}_${secret}`;
}

/** The parts of a well-formed key, or null (then verification still runs a dummy hash). */
export function parseApiKey(raw: string): ParsedApiKey | null {
  const match = API_KEY_PATTERN.exec(raw);
  return match ? { prefix: match[1], secret: match[2] } : null;
}

/** What lists show instead of the key. */
export function maskApiKey(prefix: string): string {
  return `${API_KEY_MARKER}_${prefix}_****`;
}

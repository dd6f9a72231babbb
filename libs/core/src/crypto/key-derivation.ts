import { hkdfSync } from 'node:crypto';

/**
 * Fixed HKDF salt: domain separation from any other use of `SECRET_KEY`. Changing it changes every derived
 * key (and makes everything encrypted under them unreadable), so it is versioned, never edited.
 */
const HKDF_SALT = 'agentauth/hkdf-salt/v1';

/**
 * HKDF-SHA256 (RFC 5869) of the server secret (`config.secretKey`) for one named purpose, e.g.
 * `deriveKey(config.secretKey, 'signing-keys/v1', 32)`. Different purposes give independent keys, so a key
 * used for one job never decrypts or authenticates another's data.
 */
export function deriveKey(secret: string | Uint8Array, purpose: string, length = 32): Buffer {
  if (typeof secret === 'string' ? secret.length === 0 : secret.byteLength === 0) {
    throw new Error('deriveKey: the secret is empty');
  }
  if (!purpose) throw new Error('deriveKey: a purpose label is required');
  if (!Number.isInteger(length) || length < 16 || length > 255 * 32) {
    throw new Error('deriveKey: length must be an integer between 16 and 8160 bytes');
  }
  return Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, `agentauth:${purpose}`, length));
}

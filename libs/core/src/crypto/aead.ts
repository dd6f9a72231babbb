import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Any failure to decrypt: malformed input, wrong key, tampered ciphertext/iv/tag or associated data.
 * Deliberately one error with one message, so nothing learns which part was wrong.
 */
export class DecryptionError extends Error {
  constructor() {
    super('decryption failed');
    this.name = 'DecryptionError';
  }
}

function checkKey(key: Uint8Array): void {
  if (key.byteLength !== KEY_BYTES) throw new Error(`AES-256-GCM needs a ${KEY_BYTES}-byte key`);
}

/**
 * AES-256-GCM with a random 96-bit IV. Returns `v1.<iv>.<ciphertext>.<tag>` (base64url parts). The optional
 * `associatedData` is authenticated but not stored: bind the ciphertext to where it lives (e.g. a row id) so
 * it cannot be moved to another row and still decrypt.
 */
export function encrypt(plaintext: string | Uint8Array, key: Uint8Array, associatedData?: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  if (associatedData !== undefined) cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv, ciphertext, tag]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Inverse of `encrypt`; throws `DecryptionError` on any problem (never returns unauthenticated data). */
export function decrypt(payload: string, key: Uint8Array, associatedData?: string): Buffer {
  checkKey(key);
  const parts = payload.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION || !parts.slice(1).every((p) => BASE64URL.test(p))) {
    throw new DecryptionError();
  }
  const [iv, ciphertext, tag] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'));
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new DecryptionError();
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    if (associatedData !== undefined) decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new DecryptionError();
  }
}

/** `decrypt` for text payloads (PEM keys, webhook secrets). */
export function decryptToString(payload: string, key: Uint8Array, associatedData?: string): string {
  return decrypt(payload, key, associatedData).toString('utf8');
}

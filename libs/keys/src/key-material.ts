import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint } from 'jose';
import { decryptToString, deriveKey, encrypt } from '@agentauth/core';

const generateKeyPairAsync = promisify(generateKeyPair);

export const SIGNING_ALG = 'RS256';
const RSA_MODULUS_BITS = 2048;
/** HKDF purpose of the key that encrypts private signing keys at rest. Versioned, never edited. */
export const SIGNING_KEY_ENCRYPTION_PURPOSE = 'signing-keys/v1';

/** The public half as served in JWKS (RFC 7517): never a private member. */
export interface PublicSigningJwk {
  kty: 'RSA';
  kid: string;
  use: 'sig';
  alg: typeof SIGNING_ALG;
  n: string;
  e: string;
}

export interface GeneratedSigningKey {
  kid: string;
  publicJwk: PublicSigningJwk;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PKCS#8 PEM encrypted with AES-256-GCM (`v1.…`), bound to the kid. */
  privateKeyEncrypted: string;
}

/** The AES key for private signing keys, derived from `SECRET_KEY`. */
export function signingKeyEncryptionKey(secretKey: string): Buffer {
  return deriveKey(secretKey, SIGNING_KEY_ENCRYPTION_PURPOSE, 32);
}

/** Associated data of a key's ciphertext: a ciphertext copied to another row does not decrypt. */
function aad(kid: string): string {
  return `signing-key:${kid}`;
}

export function publicJwkOf(publicKey: KeyObject, kid: string): PublicSigningJwk {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') {
    throw new Error('not an RSA public key');
  }
  return { kty: 'RSA', kid, use: 'sig', alg: SIGNING_ALG, n: jwk.n, e: jwk.e };
}

/** A fresh RSA-2048 key; kid = RFC 7638 SHA-256 thumbprint of the public key. */
export async function generateSigningKey(encryptionKey: Uint8Array): Promise<GeneratedSigningKey> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: RSA_MODULUS_BITS });
  const { n, e } = publicKey.export({ format: 'jwk' });
  const kid = await calculateJwkThumbprint({ kty: 'RSA', n, e }, 'sha256');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  return {
    kid,
    publicJwk: publicJwkOf(publicKey, kid),
    privateKey,
    publicKey,
    privateKeyEncrypted: encrypt(pem, encryptionKey, aad(kid)),
  };
}

/** Decrypts and imports a stored private key once (throws `DecryptionError` under the wrong SECRET_KEY). */
export function importPrivateKey(
  kid: string,
  privateKeyEncrypted: string,
  encryptionKey: Uint8Array,
): KeyObject {
  return createPrivateKey(decryptToString(privateKeyEncrypted, encryptionKey, aad(kid)));
}

export function importPublicKey(jwk: PublicSigningJwk): KeyObject {
  return createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
}

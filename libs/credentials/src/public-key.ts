import { calculateJwkThumbprint, importJWK, type JWK, type KeyLike } from 'jose';

/**
 * Signature algorithms a public key may sign with: client assertions (CONTRACT §9) and DPoP proofs
 * (CONTRACT §10). Asymmetric only: never `none`, never an HMAC.
 */
export const PUBLIC_KEY_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type PublicKeyAlg = (typeof PUBLIC_KEY_ALGS)[number];

export function isPublicKeyAlg(value: unknown): value is PublicKeyAlg {
  return typeof value === 'string' && (PUBLIC_KEY_ALGS as readonly string[]).includes(value);
}

/**
 * The JWS `alg` header values accepted for signatures by public keys: the four above plus `Ed25519`, the
 * fully-specified name of EdDSA with an Ed25519 key (RFC 9864), which current clients (oauth4webapi,
 * openid-client 6) write for Ed25519 keys. Discovery lists these.
 */
export const ACCEPTED_JWS_ALGS = [...PUBLIC_KEY_ALGS, 'Ed25519'] as const;
export type AcceptedJwsAlg = (typeof ACCEPTED_JWS_ALGS)[number];

/** The key algorithm a JWS `alg` header means (`Ed25519` is EdDSA with an Ed25519 key), or null if refused. */
export function keyAlgOfJwsAlg(value: unknown): PublicKeyAlg | null {
  if (value === 'Ed25519') return 'EdDSA';
  return isPublicKeyAlg(value) ? value : null;
}

/** JWK members that carry private (or symmetric) key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;
const MAX_KID_LENGTH = 200;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A JWK that is not an acceptable public key; `message` says why (safe to show: there is no secret in it). */
export class InvalidJwkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidJwkError';
  }
}

/** A validated public key: the canonical JWK (public members only), what it signs with, and its names. */
export interface ParsedPublicKey {
  /** Public members only, plus `kid`, `alg` and `use: "sig"`. */
  jwk: JWK;
  kty: 'RSA' | 'EC' | 'OKP';
  alg: PublicKeyAlg;
  /** The JWK's `kid` if it had one, else the thumbprint. */
  kid: string;
  /** RFC 7638 SHA-256 thumbprint, base64url. */
  thumbprint: string;
}

function base64urlMember(jwk: Record<string, unknown>, name: string): Buffer {
  const value = jwk[name];
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048 || !BASE64URL.test(value)) {
    throw new InvalidJwkError(`jwk.${name} must be a base64url string`);
  }
  return Buffer.from(value, 'base64url');
}

function significantBits(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]));
}

const ALGS_BY_KTY: Record<ParsedPublicKey['kty'], readonly PublicKeyAlg[]> = {
  RSA: ['RS256', 'PS256'],
  EC: ['ES256'],
  OKP: ['EdDSA'],
};

/**
 * THE check of a public JWK (CONTRACT §9, §10): RSA of 2048–8192 bits, EC P-256 or OKP Ed25519; no private
 * member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`); `use`, when given, `sig`; `alg`, when given, one this
 * key type signs with (default: RS256, ES256, EdDSA); the key must import (an EC point off the curve does
 * not). Throws `InvalidJwkError`.
 */
export async function parsePublicJwk(input: unknown): Promise<ParsedPublicKey> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidJwkError('jwk must be a JSON object');
  }
  const jwk = input as Record<string, unknown>;
  const privateMembers = PRIVATE_JWK_MEMBERS.filter((m) => m in jwk);
  if (privateMembers.length > 0) {
    throw new InvalidJwkError(
      `jwk must be a public key: it holds private key material (${privateMembers.join(', ')}); send only the public key`,
    );
  }
  const kty = jwk.kty;
  const out: JWK = { kty: String(kty) };
  if (kty === 'RSA') {
    const bits = significantBits(base64urlMember(jwk, 'n'));
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      throw new InvalidJwkError(
        `an RSA key must have ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits (this one: ${bits})`,
      );
    }
    const e = base64urlMember(jwk, 'e');
    if (e.length > 8 || significantBits(e) < 2 || (e[e.length - 1] & 1) === 0) {
      throw new InvalidJwkError('jwk.e is not a valid RSA public exponent');
    }
    Object.assign(out, { kty, n: jwk.n, e: jwk.e });
  } else if (kty === 'EC') {
    if (jwk.crv !== 'P-256') throw new InvalidJwkError('an EC key must be on the P-256 curve');
    if (base64urlMember(jwk, 'x').length !== 32 || base64urlMember(jwk, 'y').length !== 32) {
      throw new InvalidJwkError('jwk.x and jwk.y must be 32 bytes for P-256');
    }
    Object.assign(out, { kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
  } else if (kty === 'OKP') {
    if (jwk.crv !== 'Ed25519') throw new InvalidJwkError('an OKP key must be an Ed25519 key');
    if (base64urlMember(jwk, 'x').length !== 32)
      throw new InvalidJwkError('jwk.x must be 32 bytes for Ed25519');
    Object.assign(out, { kty, crv: jwk.crv, x: jwk.x });
  } else {
    throw new InvalidJwkError('jwk.kty must be RSA, EC (P-256) or OKP (Ed25519)');
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new InvalidJwkError('jwk.use must be "sig"');
  const allowed = ALGS_BY_KTY[kty];
  if (jwk.alg !== undefined && !(typeof jwk.alg === 'string' && (allowed as string[]).includes(jwk.alg))) {
    throw new InvalidJwkError(`jwk.alg must be one of ${allowed.join(', ')} for a ${kty} key`);
  }
  const alg = (jwk.alg as PublicKeyAlg | undefined) ?? allowed[0];
  if (
    jwk.kid !== undefined &&
    (typeof jwk.kid !== 'string' ||
      jwk.kid.length === 0 ||
      jwk.kid.length > MAX_KID_LENGTH ||
      // eslint-disable-next-line no-control-regex
      /[\u0000-\u001f\u007f]/.test(jwk.kid))
  ) {
    throw new InvalidJwkError(`jwk.kid must be a string of 1 to ${MAX_KID_LENGTH} printable characters`);
  }
  try {
    await importJWK(out, alg);
  } catch {
    throw new InvalidJwkError('jwk is not a valid public key');
  }
  const thumbprint = await calculateJwkThumbprint(out, 'sha256');
  const kid = jwk.kid ?? thumbprint;
  return { jwk: { ...out, kid, alg, use: 'sig' }, kty, alg, kid, thumbprint };
}

/** The verification key of a stored (already validated) public JWK, for its algorithm. */
export async function importPublicJwk(jwk: JWK, alg: PublicKeyAlg): Promise<KeyLike> {
  const { kid: _kid, use: _use, ...members } = jwk;
  return (await importJWK({ ...members, alg }, alg)) as KeyLike;
}

import { type KeyObject, sign, verify } from 'node:crypto';

/**
 * RS256 compact JWS (RFC 7515 §7.1, RFC 7518 §3.3) for the tokens this server signs and verifies, on
 * `node:crypto`'s synchronous one-shot `sign`/`verify`. jose 5 runs the same primitives through
 * `promisify(crypto.sign)` (a libuv thread-pool job per call) plus its generic JOSE plumbing: measured on this
 * machine, one RS256 access token cost 446 µs of CPU through `SignJWT` against 279 µs here, one
 * verification 161 µs through `jwtVerify` against 34 µs (docs/performance.md). The format is fixed by
 * RFC 7515 and what is signed is produced by this server only; jose stays the verifier of everything else
 * (client assertions, DPoP proofs) and the interoperability check in the tests.
 */

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** A signature part may be empty (an unsigned token): it then fails verification, like any wrong one. */
const BASE64URL_OR_EMPTY = /^[A-Za-z0-9_-]*$/;

/** The compact serialization of `payload` under `header`, signed RSASSA-PKCS1-v1_5 with SHA-256. */
export function signRs256(header: object, payload: object, privateKey: KeyObject): string {
  const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput), privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** A compact JWS split into its parts. */
export interface CompactJws {
  header: Record<string, unknown>;
  encodedPayload: string;
  signingInput: string;
  signature: Buffer;
}

/**
 * Splits and decodes a compact JWS without trusting anything in it: exactly three parts of base64url
 * characters (no padding, nothing else: Node's decoder would skip foreign characters; the signature may be
 * empty), the protected header a JSON object. `undefined` for anything else.
 */
export function parseCompactJws(jws: string): CompactJws | undefined {
  const parts = jws.split('.');
  if (parts.length !== 3) return undefined;
  const [encodedHeader, encodedPayload, encodedSignature] = parts;
  if (!BASE64URL.test(encodedPayload) || !BASE64URL_OR_EMPTY.test(encodedSignature)) return undefined;
  const header = decodeJsonObject(encodedHeader);
  if (header === undefined) return undefined;
  return {
    header,
    encodedPayload,
    signingInput: `${encodedHeader}.${encodedPayload}`,
    signature: Buffer.from(encodedSignature, 'base64url'),
  };
}

/** Whether `jws`'s RS256 signature verifies under `publicKey`. */
export function rs256SignatureValid(jws: CompactJws, publicKey: KeyObject): boolean {
  try {
    return verify('sha256', Buffer.from(jws.signingInput), publicKey, jws.signature);
  } catch {
    return false;
  }
}

/** A base64url part decoded as a JSON object (not an array, not a scalar); `undefined` otherwise. */
export function decodeJsonObject(encoded: string): Record<string, unknown> | undefined {
  if (!BASE64URL.test(encoded)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function base64urlJson(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

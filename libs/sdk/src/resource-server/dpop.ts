import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type JWTPayload } from 'jose';
import { type Clock, systemClock } from '../clock.js';

/** The proof algorithms accepted (asymmetric only; AgentAuth's `dpop_signing_alg_values_supported`). */
export const DPOP_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
/** JWK members only a private or symmetric key has: a proof carrying one is refused. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;

/** Why a DPoP proof was refused (the `error_description` of an `invalid_dpop_proof` answer). */
export class DpopProofError extends Error {
  constructor(readonly reason: string) {
    super(`invalid DPoP proof: ${reason}`);
    this.name = 'DpopProofError';
  }
}

/** `ath` (RFC 9449 §4.2): base64url(SHA-256(ASCII access token)). */
export async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken));
  return Buffer.from(digest).toString('base64url');
}

/** An `htu` in comparable form: scheme, host, port and path; no query, no fragment (RFC 9449 §4.3). */
export function normalizeHtu(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return undefined;
  }
}

/**
 * Remembers each (jkt, jti) of an accepted proof until it can no longer pass the `iat` check, so a proof is
 * good once. In memory (one process); entries expire; full of live entries, it refuses (fail closed).
 */
export class DpopReplayCache {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly maxEntries = 100_000,
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {}

  /** True the first time (key, jti) is seen before `expiresAt` (ms); false for a replay. */
  firstUse(key: string, jti: string, expiresAt: number): boolean {
    const now = this.clock.now();
    const id = `${key}\u0000${jti}`;
    const known = this.seen.get(id);
    if (known !== undefined && known > now) return false;
    if (this.seen.size >= this.maxEntries) this.purge(now);
    if (this.seen.size >= this.maxEntries) throw new DpopProofError('replay cache full');
    this.seen.set(id, expiresAt);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private purge(now: number): void {
    for (const [id, until] of this.seen) if (until <= now) this.seen.delete(id);
  }
}

/** What a proof must match. */
export interface DpopRequest {
  /** The request method (`GET`, `POST`…). */
  method: string;
  /** The URL the client called (as it sees this server: scheme, host, path; the query is ignored). */
  url: string;
  /** The access token the proof accompanies: `ath` must be its hash. */
  accessToken: string;
  /** The token's `cnf.jkt`: the proof's key must have this thumbprint. */
  jkt: string;
}

export interface DpopCheckOptions {
  /** `iat` may be this far from now, either way (default 60 s). */
  iatWindowSeconds?: number;
  replay: DpopReplayCache;
  clock?: Pick<Clock, 'now'>;
}

/**
 * Checks a DPoP proof for a bound access token at a resource server (RFC 9449 §4.3, §7): one compact JWS with
 * `typ: dpop+jwt`, an asymmetric `alg` of the allow-list, a public `jwk` (no private member) whose signature
 * verifies and whose RFC 7638 thumbprint is the token's `cnf.jkt`; `htm` = the method, `htu` = the URL
 * (without query and fragment), `iat` within the window, `ath` = the token's hash, a `jti` not used before
 * (recorded only once everything else held). Throws DpopProofError.
 */
export async function verifyDpopProof(
  proof: string | string[] | undefined,
  request: DpopRequest,
  options: DpopCheckOptions,
): Promise<void> {
  if (proof === undefined || proof === '') throw new DpopProofError('DPoP proof required');
  if (Array.isArray(proof) || proof.includes(',')) throw new DpopProofError('more than one DPoP proof');
  if (proof.length > MAX_PROOF_LENGTH) throw new DpopProofError('malformed');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw new DpopProofError('malformed');
  }
  if (header.typ !== 'dpop+jwt') throw new DpopProofError('typ is not dpop+jwt');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(DPOP_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new DpopProofError('alg not allowed');
  }
  const jwk = header.jwk;
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk) || typeof jwk.kty !== 'string') {
    throw new DpopProofError('no jwk');
  }
  if (jwk.kty === 'oct' || PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) {
    throw new DpopProofError('jwk is not a public key');
  }
  const clock = options.clock ?? systemClock;
  const windowS = options.iatWindowSeconds ?? 60;
  let payload: JWTPayload;
  try {
    const key = await importJWK(jwk, alg);
    ({ payload } = await jwtVerify(proof, key, {
      algorithms: [alg],
      typ: 'dpop+jwt',
      currentDate: new Date(clock.now()),
      clockTolerance: windowS,
    }));
  } catch {
    throw new DpopProofError('signature');
  }
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > MAX_JTI_LENGTH) {
    throw new DpopProofError('jti');
  }
  if (payload.htm !== request.method.toUpperCase()) throw new DpopProofError('htm does not match');
  const expected = normalizeHtu(request.url);
  if (expected === undefined || typeof payload.htu !== 'string' || normalizeHtu(payload.htu) !== expected) {
    throw new DpopProofError('htu does not match');
  }
  const nowS = clock.now() / 1000;
  if (typeof payload.iat !== 'number' || Math.abs(payload.iat - nowS) > windowS) {
    throw new DpopProofError('iat outside the window');
  }
  if (payload.ath !== (await accessTokenHash(request.accessToken))) {
    throw new DpopProofError('ath does not match the token');
  }
  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  if (jkt !== request.jkt) throw new DpopProofError('key is not the one the token is bound to');
  if (!options.replay.firstUse(jkt, payload.jti, (payload.iat + windowS + 5) * 1000)) {
    throw new DpopProofError('replayed');
  }
}

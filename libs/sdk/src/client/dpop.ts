import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, type KeyLike, SignJWT } from 'jose';
import { type Clock, systemClock } from '../clock.js';
import { accessTokenHash } from '../resource-server/dpop.js';

/** The algorithms a DPoP key may sign with (asymmetric only; AgentAuth's `dpop_signing_alg_values_supported`). */
export type DpopAlgorithm = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';

/** A DPoP key pair: jose `KeyLike`s (a Node `KeyObject` or a WebCrypto `CryptoKey`). */
export interface DpopKeyPair {
  privateKey: KeyLike;
  publicKey: KeyLike;
}

export interface DpopOptions {
  /** The key pair proofs are signed with (default: a new ES256 pair, kept for the client's lifetime). */
  keyPair?: DpopKeyPair;
  /** The pair's algorithm (default ES256; give it for another key type). */
  alg?: DpopAlgorithm;
}

/** What one proof is for. */
export interface ProofTarget {
  /** `htm`: the request method. */
  method: string;
  /** `htu`: the request URL (query and fragment are left out). */
  url: string;
  /** The access token the proof accompanies (`ath`): requests to a resource. */
  accessToken?: string;
}

/** `htu` (RFC 9449 §4.2): the URL without query and fragment. */
function htuOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

const PUBLIC_MEMBERS = ['crv', 'x', 'y', 'n', 'e'] as const;

/**
 * The client side of DPoP (RFC 9449): one key pair, a fresh proof per request (`typ: dpop+jwt`, the public
 * JWK in the header, `jti`, `htm`, `htu`, `iat`, `ath` with an access token, `nonce` when the server gave one),
 * and the last `DPoP-Nonce` each server origin sent (RFC 9449 §8–9).
 */
export class DpopProver {
  private readonly nonces = new Map<string, string>();

  private constructor(
    private readonly privateKey: KeyLike,
    private readonly publicJwk: JWK,
    readonly alg: DpopAlgorithm,
    /** RFC 7638 SHA-256 thumbprint of the public key: the `cnf.jkt` of the tokens bound to it. */
    readonly thumbprint: string,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  static async create(
    options: DpopOptions = {},
    clock: Pick<Clock, 'now'> = systemClock,
  ): Promise<DpopProver> {
    const alg = options.alg ?? 'ES256';
    const pair = options.keyPair ?? (await generateKeyPair(alg));
    const exported = await exportJWK(pair.publicKey);
    if ('d' in exported || exported.kty === 'oct') {
      throw new TypeError('the DPoP publicKey is not a public key');
    }
    const publicJwk: JWK = { kty: exported.kty };
    for (const member of PUBLIC_MEMBERS)
      if (exported[member] !== undefined) publicJwk[member] = exported[member];
    return new DpopProver(pair.privateKey, publicJwk, alg, await calculateJwkThumbprint(publicJwk), clock);
  }

  /** A proof for one request. */
  async proof(target: ProofTarget): Promise<string> {
    const nonce = this.nonces.get(new URL(target.url).origin);
    const claims: Record<string, unknown> = {
      jti: globalThis.crypto.randomUUID(),
      htm: target.method.toUpperCase(),
      htu: htuOf(target.url),
      iat: Math.floor(this.clock.now() / 1000),
    };
    if (target.accessToken !== undefined) claims.ath = await accessTokenHash(target.accessToken);
    if (nonce !== undefined) claims.nonce = nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ typ: 'dpop+jwt', alg: this.alg, jwk: this.publicJwk })
      .sign(this.privateKey);
  }

  /**
   * Keeps a response's `DPoP-Nonce` for its origin, and says whether the request should be sent again with
   * it: a 400 `use_dpop_nonce` from the token endpoint, or a 401 challenge with `error="use_dpop_nonce"`.
   */
  async needsNonceRetry(url: string, res: Response): Promise<boolean> {
    const nonce = res.headers.get('dpop-nonce');
    if (nonce === null || nonce === '') return false;
    const origin = new URL(url).origin;
    const previous = this.nonces.get(origin);
    this.nonces.set(origin, nonce);
    if (previous === nonce) return false;
    if (res.status === 401) {
      return /error="?use_dpop_nonce"?/i.test(res.headers.get('www-authenticate') ?? '');
    }
    if (res.status === 400) {
      const body = (await res
        .clone()
        .json()
        .catch(() => undefined)) as { error?: unknown } | undefined;
      return body?.error === 'use_dpop_nonce';
    }
    return false;
  }
}

import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { decodeProtectedHeader, importJWK, type JWK, jwtVerify, type JWTPayload } from 'jose';
import { APP_CONFIG, type AppConfig, Clock } from '@agentauth/core';
import { ACCEPTED_JWS_ALGS, InvalidJwkError, keyAlgOfJwsAlg, parsePublicJwk } from '@agentauth/credentials';
import { ReplayCache } from './replay-cache';

/** `iat` of a proof may be this far from now, either way (CONTRACT §10). */
export const DPOP_IAT_WINDOW_S = 60;
/** How long a (jkt, jti) pair is remembered: at least 120 s (CONTRACT §10) — the whole `iat` window and more. */
export const DPOP_JTI_TTL_MS = 180_000;
const MAX_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;

/** The `algs` a DPoP challenge lists (RFC 9449 §7.1) and discovery's `dpop_signing_alg_values_supported`. */
export const DPOP_SIGNING_ALGS: readonly string[] = ACCEPTED_JWS_ALGS;

/** Why a proof was refused: for logs and the audit trail only. */
export class DpopProofError extends Error {
  constructor(readonly reason: string) {
    super(`invalid DPoP proof: ${reason}`);
    this.name = 'DpopProofError';
  }
}

/** What a proof must match: the request's method and URL (query and fragment are not part of `htu`). */
export interface DpopRequestTarget {
  method: string;
  /** The path of the request (no query), e.g. `/api/v1/auth/token`; the URL is PUBLIC_BASE_URL + path. */
  path: string;
  /** The access token the proof accompanies (management API): `ath` must be its hash. */
  accessToken?: string;
}

export interface ValidDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key. */
  jkt: string;
  jti: string;
}

/** `ath` (RFC 9449 §4.2): base64url(SHA-256(ASCII access token)). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/** An `htu` in comparable form: scheme, host, port and path; no query, no fragment (RFC 9449 §4.3). */
function normalizeHtu(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return null;
  }
}

/**
 * THE validation of a DPoP proof (RFC 9449 §4.3, CONTRACT §10), for the token endpoint and the management
 * API alike:
 * - exactly one `DPoP` header holding one compact JWS;
 * - header `typ: dpop+jwt`, `alg` asymmetric (RS256, PS256, ES256, EdDSA/Ed25519), `jwk` a public key of an
 *   accepted kind (the same rules as a public-key credential: no private member, RSA ≥ 2048, P-256, Ed25519)
 *   that the `alg` fits; the signature verifies with it;
 * - `htm` = the request method; `htu` = PUBLIC_BASE_URL + the request path — never the request's own Host or
 *   scheme, which a client or a proxy controls — compared without query and fragment;
 * - `iat` within ±60 s of now; `jti` present;
 * - `ath` = the hash of the access token when one accompanies the proof;
 * - (`jkt`, `jti`) unused for 180 s (`ReplayCache`), recorded only once everything else held.
 * Throws `DpopProofError`. Server nonces are not used (optional in this version).
 */
@Injectable()
export class DpopProofValidator {
  constructor(
    private readonly replay: ReplayCache,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The proof of a request's `DPoP` header(s); undefined when there is none. */
  static proofOf(header: string | string[] | undefined): string | undefined {
    if (header === undefined) return undefined;
    if (Array.isArray(header)) {
      if (header.length !== 1) throw new DpopProofError('multiple_dpop_headers');
      return header[0];
    }
    if (header.includes(',')) throw new DpopProofError('multiple_dpop_headers');
    return header;
  }

  async validate(proof: string, target: DpopRequestTarget): Promise<ValidDpopProof> {
    if (proof.length === 0 || proof.length > MAX_PROOF_LENGTH) throw new DpopProofError('malformed');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      throw new DpopProofError('malformed');
    }
    if (header.typ !== 'dpop+jwt') throw new DpopProofError('typ');
    const keyAlg = keyAlgOfJwsAlg(header.alg);
    if (keyAlg === null) throw new DpopProofError('alg_not_allowed');
    let jkt: string;
    let publicJwk: JWK;
    try {
      const parsed = await parsePublicJwk(header.jwk);
      const fits =
        keyAlg === parsed.alg || (parsed.kty === 'RSA' && (keyAlg === 'RS256' || keyAlg === 'PS256'));
      if (!fits) throw new DpopProofError('alg_key_mismatch');
      jkt = parsed.thumbprint;
      const { kid: _kid, alg: _alg, use: _use, ...members } = parsed.jwk;
      publicJwk = members;
    } catch (error) {
      if (error instanceof InvalidJwkError) throw new DpopProofError('jwk_invalid');
      throw error;
    }
    let payload: JWTPayload;
    try {
      const key = await importJWK(publicJwk, keyAlg);
      ({ payload } = await jwtVerify(proof, key, {
        algorithms: [header.alg as string],
        typ: 'dpop+jwt',
        currentDate: this.clock.now(),
        clockTolerance: DPOP_IAT_WINDOW_S,
      }));
    } catch {
      throw new DpopProofError('signature');
    }
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > MAX_JTI_LENGTH) {
      throw new DpopProofError('jti');
    }
    if (payload.htm !== target.method) throw new DpopProofError('htm');
    const expected = normalizeHtu(`${this.config.publicBaseUrl}${target.path}`);
    if (typeof payload.htu !== 'string' || normalizeHtu(payload.htu) !== expected) {
      throw new DpopProofError('htu');
    }
    const nowS = this.clock.nowMs() / 1000;
    if (typeof payload.iat !== 'number' || Math.abs(payload.iat - nowS) > DPOP_IAT_WINDOW_S) {
      throw new DpopProofError('iat');
    }
    if (target.accessToken !== undefined) {
      if (payload.ath !== accessTokenHash(target.accessToken)) throw new DpopProofError('ath');
    }
    if (!(await this.replay.firstUse('dpop_proof', jkt, payload.jti, DPOP_JTI_TTL_MS))) {
      throw new DpopProofError('replayed');
    }
    return { jkt, jti: payload.jti };
  }
}

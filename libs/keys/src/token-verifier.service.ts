import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, Clock } from '@agentauth/core';
import { decodeJsonObject, parseCompactJws, rs256SignatureValid } from './compact-jws';
import { InvalidTokenError } from './invalid-token.error';
import { KeyRing } from './key-ring';
import { SIGNING_ALG } from './key-material';
import { CLOCK_SKEW_SECONDS, MAX_TOKEN_LENGTH } from './keys.constants';
import { SigningKeysService } from './signing-keys.service';
import type { TokenTyp } from './token-signer.service';

export interface VerifyOptions {
  /** Expected `typ` header (`application/at+jwt` is accepted for `at+jwt`, RFC 9068 §2.1). */
  typ: TokenTyp;
  /** When given, `aud` must contain one of these. */
  audience?: string | string[];
}

/** The claims every verified token has (checked); everything else is as signed. */
export interface VerifiedClaims {
  iss: string;
  sub: string;
  jti: string;
  iat: number;
  nbf: number;
  exp: number;
  aud?: string | string[];
  [claim: string]: unknown;
}

/** The protected header of a verified token. */
export interface VerifiedHeader {
  alg: typeof SIGNING_ALG;
  kid: string;
  typ?: string;
  [parameter: string]: unknown;
}

export interface VerifiedToken {
  payload: VerifiedClaims;
  header: VerifiedHeader;
  kid: string;
}

const REQUIRED_CLAIMS = ['iss', 'sub', 'jti', 'iat', 'nbf', 'exp'] as const;

/** RFC 9068 §2.1 / RFC 7515 §4.1.9: `typ` compares case-insensitively, `application/` may be omitted. */
function normalizeTyp(value: string): string {
  return value.toLowerCase().replace(/^application\//, '');
}

function audienceMatches(aud: unknown, expected: string | string[]): boolean {
  const wanted = typeof expected === 'string' ? [expected] : expected;
  if (typeof aud === 'string') return wanted.includes(aud);
  return Array.isArray(aud) && aud.some((value) => wanted.includes(value as string));
}

/**
 * Verifies tokens this server signed: RS256 only, a `kid` of the current key set, `iss` = PUBLIC_BASE_URL,
 * the expected `typ`, `exp`/`nbf`/`iat` within ±30 s of the Clock, optionally `aud`. No I/O on the happy path;
 * an unknown `kid` triggers one rate-limited ring reload. Every failure is an `InvalidTokenError` whose
 * `reason` is for logs and tests only. Revocation is not checked here (RevocationService).
 */
@Injectable()
export class TokenVerifier {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly ring: KeyRing,
    private readonly keys: SigningKeysService,
  ) {}

  async verify(jwt: string, options: VerifyOptions): Promise<VerifiedToken> {
    if (typeof jwt !== 'string' || jwt.length === 0 || jwt.length > MAX_TOKEN_LENGTH) {
      throw new InvalidTokenError('malformed');
    }
    const jws = parseCompactJws(jwt);
    if (!jws) throw new InvalidTokenError('malformed');
    const { header } = jws;
    // Checked before anything else: `none`, HS256 (e.g. "signed" with the public key as secret) and every
    // other algorithm are refused whatever the key.
    if (header.alg !== SIGNING_ALG) throw new InvalidTokenError('alg_not_allowed');
    const kid = header.kid;
    if (typeof kid !== 'string' || kid.length === 0) throw new InvalidTokenError('missing_kid');
    // This server never signs with critical extensions (RFC 7515 §4.1.11: unknown ones must be refused) nor
    // with an unencoded payload (RFC 7797 `b64`).
    if (header.crit !== undefined || header.b64 !== undefined) throw new InvalidTokenError('malformed');
    let key = this.ring.verificationKey(kid);
    if (!key) {
      await this.keys.refreshOnDemand();
      key = this.ring.verificationKey(kid);
      if (!key) throw new InvalidTokenError('unknown_kid');
    }
    if (!rs256SignatureValid(jws, key)) throw new InvalidTokenError('bad_signature');
    const payload = decodeJsonObject(jws.encodedPayload);
    if (payload === undefined) throw new InvalidTokenError('malformed');
    this.checkClaims(header, payload, options);
    return { payload: payload as VerifiedClaims, header: header as VerifiedHeader, kid };
  }

  /**
   * The JWT claims rules (RFC 7519 §4.1, RFC 9068 §4), in the order jose's `jwtVerify` applied them (the
   * reasons the tests and logs know stay the same): `typ`, presence of the required claims, `iss`, `aud`,
   * then the times with ±30 s of skew — `iat` and `nbf` not in the future, `exp` not past.
   */
  private checkClaims(
    header: Record<string, unknown>,
    payload: Record<string, unknown>,
    options: VerifyOptions,
  ): void {
    if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== normalizeTyp(options.typ)) {
      throw new InvalidTokenError('typ_mismatch');
    }
    for (const claim of REQUIRED_CLAIMS) {
      if (!(claim in payload)) throw new InvalidTokenError('missing_claim');
    }
    if (options.audience !== undefined && !('aud' in payload)) throw new InvalidTokenError('missing_claim');
    if (payload.iss !== this.config.publicBaseUrl) throw new InvalidTokenError('wrong_issuer');
    if (options.audience !== undefined && !audienceMatches(payload.aud, options.audience)) {
      throw new InvalidTokenError('wrong_audience');
    }
    const { iat, nbf, exp } = payload;
    if (typeof iat !== 'number' || typeof nbf !== 'number' || typeof exp !== 'number') {
      throw new InvalidTokenError('malformed');
    }
    const nowSec = Math.floor(this.clock.nowMs() / 1000);
    if (nbf > nowSec + CLOCK_SKEW_SECONDS || iat > nowSec + CLOCK_SKEW_SECONDS) {
      throw new InvalidTokenError('not_yet_valid');
    }
    if (exp <= nowSec - CLOCK_SKEW_SECONDS) throw new InvalidTokenError('expired');
    if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string') {
      throw new InvalidTokenError('malformed');
    }
  }
}

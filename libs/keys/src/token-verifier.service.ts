import { Inject, Injectable } from '@nestjs/common';
import {
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import { APP_CONFIG, type AppConfig, Clock } from '@agentauth/core';
import { InvalidTokenError, type InvalidTokenReason } from './invalid-token.error';
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
export interface VerifiedClaims extends JWTPayload {
  iss: string;
  sub: string;
  jti: string;
  iat: number;
  nbf: number;
  exp: number;
}

export interface VerifiedToken {
  payload: VerifiedClaims;
  header: ProtectedHeaderParameters;
  kid: string;
}

const REQUIRED_CLAIMS = ['iss', 'sub', 'jti', 'iat', 'nbf', 'exp'];

function reasonOf(error: unknown): InvalidTokenReason {
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return 'missing_claim';
    switch (error.claim) {
      case 'iss':
        return 'wrong_issuer';
      case 'aud':
        return 'wrong_audience';
      case 'typ':
        return 'typ_mismatch';
      case 'nbf':
        return error.reason === 'check_failed' ? 'not_yet_valid' : 'malformed';
      default:
        return 'malformed';
    }
  }
  return 'malformed';
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
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(jwt);
    } catch {
      throw new InvalidTokenError('malformed');
    }
    if (jwt.split('.').length !== 3) throw new InvalidTokenError('malformed');
    // Checked before anything else: `none`, HS256 (e.g. "signed" with the public key as secret) and every
    // other algorithm are refused whatever the key.
    if (header.alg !== SIGNING_ALG) throw new InvalidTokenError('alg_not_allowed');
    const kid = header.kid;
    if (typeof kid !== 'string' || kid.length === 0) throw new InvalidTokenError('missing_kid');
    let key = this.ring.verificationKey(kid);
    if (!key) {
      await this.keys.refreshOnDemand();
      key = this.ring.verificationKey(kid);
      if (!key) throw new InvalidTokenError('unknown_kid');
    }
    const now = this.clock.now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, key, {
        algorithms: [SIGNING_ALG],
        issuer: this.config.publicBaseUrl,
        audience: options.audience,
        typ: options.typ,
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: now,
      }));
    } catch (error) {
      throw new InvalidTokenError(reasonOf(error));
    }
    const nowSec = Math.floor(now.getTime() / 1000);
    if (typeof payload.iat !== 'number' || payload.iat > nowSec + CLOCK_SKEW_SECONDS) {
      throw new InvalidTokenError('not_yet_valid');
    }
    if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string') {
      throw new InvalidTokenError('malformed');
    }
    return { payload: payload as VerifiedClaims, header, kid };
  }
}

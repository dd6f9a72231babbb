import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, Clock, ServiceUnavailableProblem } from '@agentauth/core';
import { signRs256 } from './compact-jws';
import { KeyRing, type RingKey } from './key-ring';
import { SIGNING_ALG } from './key-material';
import { CLOCK_SKEW_SECONDS } from './keys.constants';
import { SigningKeysRepository } from './signing-keys.repository';
import { SigningKeysService } from './signing-keys.service';

/** `typ` header values (RFC 9068 for access tokens; AgentAuth's own for delegation tokens). */
export const ACCESS_TOKEN_TYP = 'at+jwt';
export const DELEGATION_TOKEN_TYP = 'delegation+jwt';
export type TokenTyp = typeof ACCESS_TOKEN_TYP | typeof DELEGATION_TOKEN_TYP;

/** Claims the signer always sets itself; a caller passing one of them is a programming error. */
const SIGNER_OWNED = ['iss', 'iat', 'nbf'] as const;

function assertCallerClaims(claims: TokenClaims): void {
  for (const owned of SIGNER_OWNED) {
    if (claims[owned] !== undefined) throw new Error(`the "${owned}" claim is set by the signer`);
  }
  if (typeof claims.sub !== 'string' || claims.sub.length === 0) throw new Error('a token needs a "sub"');
}

/** Claims a caller gives for a token; `iss`, `iat` and `nbf` are set by the signer. */
export interface TokenClaims {
  sub: string;
  aud?: string | string[];
  /** Default: a random UUID. */
  jti?: string;
  [claim: string]: unknown;
}

/** RFC 9068 access token claims (CONTRACT §4); `agent`, `act`, `delegation_id` go through the index signature. */
export interface AccessTokenClaims extends TokenClaims {
  aud: string | string[];
  client_id: string;
  /** Space-separated. */
  scope: string;
  /** Seconds since the epoch; default and maximum: now + ACCESS_TOKEN_EXPIRE_MINUTES. */
  exp?: number;
}

/** The claims of a signed token, as they are inside it. */
export interface SignedClaims extends TokenClaims {
  iss: string;
  jti: string;
  iat: number;
  nbf: number;
  exp: number;
}

export interface SignedToken {
  /** Compact JWS. */
  jwt: string;
  kid: string;
  claims: SignedClaims;
}

/** No key may sign right now (none loaded, or none yet due by this process's clock). */
export class SigningKeyUnavailableError extends ServiceUnavailableProblem {
  constructor() {
    super('No signing key is available; try again shortly');
    this.name = 'SigningKeyUnavailableError';
  }
}

/**
 * Signs tokens with the active key of the in-memory ring. Access-token signing does no database or Redis
 * I/O (the key is imported once per process); delegation tokens, which may outlive access tokens, first
 * record their expiry on the signing key so the key stays in JWKS until they expired.
 */
@Injectable()
export class TokenSigner {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly ring: KeyRing,
    private readonly repository: SigningKeysRepository,
    private readonly keys: SigningKeysService,
  ) {}

  /**
   * An RFC 9068 access token: header `{alg: RS256, kid, typ: at+jwt}`, `iss` = PUBLIC_BASE_URL, `iat` = `nbf` =
   * now, `exp` = the given one (must not exceed the configured lifetime) or now + lifetime, `jti` = the given
   * one or a random UUID.
   */
  async signAccessToken(claims: AccessTokenClaims): Promise<SignedToken> {
    assertCallerClaims(claims);
    const nowMs = this.clock.nowMs();
    const iat = Math.floor(nowMs / 1000);
    const maxExp = iat + this.config.accessTokenExpireMinutes * 60;
    const exp = claims.exp ?? maxExp;
    if (!Number.isInteger(exp) || exp <= iat || exp > maxExp) {
      throw new Error('signAccessToken: exp must be an integer in (now, now + ACCESS_TOKEN_EXPIRE_MINUTES]');
    }
    const key = this.signingKey(nowMs);
    return this.sign(key, ACCESS_TOKEN_TYP, claims, iat, exp);
  }

  /**
   * A delegation token (`typ: delegation+jwt`) valid until `expiresAt` (`exp` = its whole second, never
   * later). The signing key's `max_delegation_exp` is raised first, so the key stays verifiable until then.
   */
  async signDelegationToken(claims: TokenClaims, expiresAt: Date): Promise<SignedToken> {
    assertCallerClaims(claims);
    const nowMs = this.clock.nowMs();
    const iat = Math.floor(nowMs / 1000);
    const exp = Math.floor(expiresAt.getTime() / 1000);
    if (!Number.isFinite(exp) || exp <= iat) {
      throw new Error('signDelegationToken: expiresAt must be in the future');
    }
    if (claims.exp !== undefined) throw new Error('signDelegationToken: pass the expiry as expiresAt');
    for (let attempt = 0; attempt < 2; attempt++) {
      const key = this.signingKey(nowMs);
      if (
        await this.repository.extendForDelegation(key.kid, new Date(exp * 1000), CLOCK_SKEW_SECONDS * 1000)
      ) {
        return this.sign(key, DELEGATION_TOKEN_TYP, claims, iat, exp);
      }
      // The ring is stale (the key was retired meanwhile): reload and try once more.
      await this.keys.refresh();
    }
    throw new SigningKeyUnavailableError();
  }

  private signingKey(nowMs: number): RingKey & { privateKey: NonNullable<RingKey['privateKey']> } {
    const key = this.ring.signingKey(nowMs, this.keys.accessTokenLifetimeMs);
    if (!key?.privateKey) {
      void this.keys.refreshOnDemand();
      throw new SigningKeyUnavailableError();
    }
    return key as RingKey & { privateKey: NonNullable<RingKey['privateKey']> };
  }

  private async sign(
    key: RingKey & { privateKey: NonNullable<RingKey['privateKey']> },
    typ: TokenTyp,
    claims: TokenClaims,
    iat: number,
    exp: number,
  ): Promise<SignedToken> {
    const payload: SignedClaims = {
      ...claims,
      iss: this.config.publicBaseUrl,
      iat,
      nbf: iat,
      exp,
      jti: claims.jti ?? randomUUID(),
    };
    const jwt = signRs256({ alg: SIGNING_ALG, kid: key.kid, typ }, payload, key.privateKey);
    return { jwt, kid: key.kid, claims: payload };
  }
}

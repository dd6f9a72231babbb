import { createRemoteJWKSet, errors as joseErrors, type JWTPayload, jwtVerify } from 'jose';
import { type ClientAuthentication, clientSecretBasic } from '../client/client-authentication.js';
import { discover, normalizeIssuer, type AuthorizationServerMetadata } from '../client/discovery.js';
import { type Clock, systemClock } from '../clock.js';
import { ProtocolError } from '../errors.js';
import { DEFAULT_RETRY_POLICY, type HttpContext, oauthErrorFrom, send } from '../http.js';
import { DpopProofError, DpopReplayCache, verifyDpopProof } from './dpop.js';

/** Why a token was refused: RFC 6750 §3.1 error codes, and RFC 9449 §7.1's `invalid_dpop_proof`. */
export type VerificationErrorCode =
  'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof';

/** A refused token (or request): the RFC 6750 error code, its HTTP status and a description safe to show. */
export class TokenVerificationError extends Error {
  readonly code: VerificationErrorCode;
  readonly status: 400 | 401 | 403;
  /** For `insufficient_scope`: the scopes the resource needs. */
  readonly requiredScopes?: string[];
  /** The challenge to answer with: `DPoP` (RFC 9449 §7.1) for a DPoP-bound token or a DPoP request. */
  readonly scheme: 'Bearer' | 'DPoP';

  constructor(
    code: VerificationErrorCode,
    description: string,
    requiredScopes?: string[],
    scheme: 'Bearer' | 'DPoP' = code === 'invalid_dpop_proof' ? 'DPoP' : 'Bearer',
  ) {
    super(description);
    this.name = 'TokenVerificationError';
    this.code = code;
    this.status = code === 'insufficient_scope' ? 403 : code === 'invalid_request' ? 400 : 401;
    this.requiredScopes = requiredScopes;
    this.scheme = scheme;
  }
}

/** How the token came, for sender-constrained tokens (RFC 9449 §7): the scheme, the proof, the request. */
export interface PresentedRequest {
  /** The Authorization scheme the token came with. */
  scheme: 'Bearer' | 'DPoP';
  /** The `DPoP` header(s). */
  proof?: string | string[];
  /** The request method. */
  method: string;
  /** The URL the client called (scheme, host and path as the client sees this server). */
  url: string;
}

/** AgentAuth's access-token claims (RFC 9068 plus `act`, `delegation_id`, `agent`). */
export interface AccessTokenClaims extends JWTPayload {
  client_id: string;
  scope?: string;
  act?: { sub: string; act?: AccessTokenClaims['act'] };
  delegation_id?: string;
  agent?: { trust_level?: string; root_agent_id?: string; version?: string; capabilities?: string[] };
  cnf?: { jkt?: string };
}

/** A token that passed every check. */
export interface VerifiedToken {
  token: string;
  claims: AccessTokenClaims;
  /** On whose authority the token acts (`sub`). */
  subject: string;
  /** The agent presenting it (`client_id`). */
  clientId: string;
  scopes: string[];
  audience: string[];
  /** Seconds since the epoch (`exp`). */
  expiresAt: number;
}

export interface IntrospectionOptions {
  /** The resource server's own agent (it needs `tokens:introspect`); or `clientAuthentication`. */
  clientId?: string;
  clientSecret?: string;
  clientAuthentication?: ClientAuthentication;
  /** How long an answer is reused for the same token (default 5 s; 0 = ask every time). */
  cacheTtlSeconds?: number;
  /** Entries kept at most (default 10 000; the oldest go first). */
  maxCacheEntries?: number;
}

export interface VerifierOptions {
  /** The issuer (AgentAuth's public base URL); must equal the tokens' `iss`. */
  issuer: string;
  /** The `aud` this resource server accepts (its resource identifier). */
  audience: string | string[];
  /** Scopes every token must carry (each route may ask for more). */
  requiredScopes?: string[];
  /** Ask the server whether the token is still active (instant revocation), with a short cache. */
  introspection?: IntrospectionOptions;
  /** Default: `jwks_uri` of the issuer's discovery document. */
  jwksUri?: string;
  /** Leeway for `exp`/`nbf`/`iat` (default 5 s). */
  clockToleranceSeconds?: number;
  /** How long fetched keys are trusted before a refetch (default 10 min). */
  jwksCacheMaxAgeSeconds?: number;
  /** Minimum time between two JWKS fetches caused by unknown `kid`s (default 30 s). */
  jwksCooldownSeconds?: number;
  /** DPoP proof checks of bound tokens: the `iat` window (default 60 s) and the replay cache size. */
  dpop?: { iatWindowSeconds?: number; maxReplayEntries?: number };
  fetch?: typeof globalThis.fetch;
  clock?: Clock;
}

export interface TokenVerifier {
  readonly issuer: string;
  readonly audience: string[];
  /**
   * Verifies an access token, or throws TokenVerificationError (anything else is a server-side failure).
   * A DPoP-bound token (`cnf.jkt`) passes only with `request`: scheme `DPoP` and a valid proof for it.
   */
  verify(
    token: string,
    options?: { requiredScopes?: string[]; request?: PresentedRequest },
  ): Promise<VerifiedToken>;
}

/** The scopes of a token's `scope` claim. */
export function scopesOf(claims: { scope?: unknown }): string[] {
  return typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
}

/**
 * Why jose refused the token, or undefined when the failure is not the token's (the key set could not be
 * fetched or parsed, a network error): those are thrown as they are, and callers fail closed with a 5xx.
 */
function tokenProblem(error: unknown): string | undefined {
  if (error instanceof joseErrors.JWTExpired) return 'token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `token ${error.claim} claim check failed`;
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'token signed by an unknown key';
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys) return 'token key ambiguous';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (
    error instanceof joseErrors.JWTInvalid ||
    error instanceof joseErrors.JWSInvalid ||
    error instanceof joseErrors.JOSENotSupported
  ) {
    return 'token malformed or not verifiable';
  }
  return undefined;
}

interface CachedIntrospection {
  active: boolean;
  until: number;
}

/**
 * A verifier for AgentAuth access tokens: RS256 signatures against the issuer's JWKS (cached; an unknown
 * `kid` triggers a refetch, so key rotation needs no restart), `typ: at+jwt`, `iss`, `aud`, `exp`, `nbf`,
 * the DPoP proof of a sender-constrained token (RFC 9449, with an in-memory replay cache), required scopes,
 * and optionally introspection for revocation that takes effect at once.
 */
export function createVerifier(options: VerifierOptions): TokenVerifier {
  const issuer = normalizeIssuer(options.issuer);
  const audience = Array.isArray(options.audience) ? [...options.audience] : [options.audience];
  if (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a === '')) {
    throw new TypeError('createVerifier needs the audience this resource server accepts');
  }
  const clock = options.clock ?? systemClock;
  const http: HttpContext = {
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    clock,
    retry: { ...DEFAULT_RETRY_POLICY, maxRetries: 1 },
    random: Math.random,
  };
  const replay = new DpopReplayCache(options.dpop?.maxReplayEntries, clock);
  const dpopWindowSeconds = options.dpop?.iatWindowSeconds ?? 60;
  const introspection = options.introspection;
  let introspectionAuth: ClientAuthentication | undefined;
  if (introspection) {
    introspectionAuth =
      introspection.clientAuthentication ??
      (introspection.clientId && introspection.clientSecret
        ? clientSecretBasic(introspection.clientId, introspection.clientSecret)
        : undefined);
    if (!introspectionAuth) {
      throw new TypeError('introspection needs clientId and clientSecret, or clientAuthentication');
    }
  }
  const cacheTtlMs = (introspection?.cacheTtlSeconds ?? 5) * 1000;
  const maxEntries = introspection?.maxCacheEntries ?? 10_000;
  const introspected = new Map<string, CachedIntrospection>();

  let metadata: Promise<AuthorizationServerMetadata> | undefined;
  const serverMetadata = () => {
    metadata ??= discover(http, issuer).catch((error: unknown) => {
      metadata = undefined;
      throw error;
    });
    return metadata;
  };

  let keySet: ReturnType<typeof createRemoteJWKSet> | undefined;
  const keys = async () => {
    if (!keySet) {
      const uri = options.jwksUri ?? (await serverMetadata()).jwks_uri;
      keySet = createRemoteJWKSet(new URL(uri), {
        cacheMaxAge: (options.jwksCacheMaxAgeSeconds ?? 600) * 1000,
        cooldownDuration: (options.jwksCooldownSeconds ?? 30) * 1000,
      });
    }
    return keySet;
  };

  async function isActive(token: string, claims: AccessTokenClaims): Promise<boolean> {
    const key = typeof claims.jti === 'string' ? claims.jti : token;
    const now = clock.now();
    const hit = introspected.get(key);
    if (hit && hit.until > now) return hit.active;
    const endpoint = (await serverMetadata()).introspection_endpoint;
    if (!endpoint) throw new ProtocolError('the issuer has no introspection_endpoint');
    const body = new URLSearchParams({ token, token_type_hint: 'access_token' });
    const headers = new Headers({
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    });
    await introspectionAuth!.apply({ headers, body, endpoint, issuer });
    const res = await send(http, endpoint, { method: 'POST', headers, body: body.toString() });
    if (!res.ok) throw await oauthErrorFrom(res);
    const answer = (await res.json()) as { active?: unknown };
    if (typeof answer?.active !== 'boolean') throw new ProtocolError('introspection response has no active');
    if (cacheTtlMs > 0) {
      if (introspected.size >= maxEntries) introspected.delete(introspected.keys().next().value!);
      introspected.set(key, { active: answer.active, until: now + cacheTtlMs });
    }
    return answer.active;
  }

  return {
    issuer,
    audience,
    async verify(token, verifyOptions = {}) {
      if (typeof token !== 'string' || token === '') {
        throw new TokenVerificationError('invalid_request', 'no access token');
      }
      let claims: AccessTokenClaims;
      try {
        const result = await jwtVerify<AccessTokenClaims>(token, await keys(), {
          issuer,
          audience,
          typ: 'at+jwt',
          algorithms: ['RS256'],
          clockTolerance: options.clockToleranceSeconds ?? 5,
          currentDate: new Date(clock.now()),
          requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id'],
        });
        claims = result.payload;
      } catch (error) {
        const problem = tokenProblem(error);
        if (problem === undefined) throw error;
        throw new TokenVerificationError('invalid_token', problem);
      }
      if (typeof claims.client_id !== 'string' || typeof claims.sub !== 'string') {
        throw new TokenVerificationError('invalid_token', 'token malformed or not verifiable');
      }
      const presented = verifyOptions.request;
      if (claims.cnf !== undefined) {
        // A sender-constrained token (RFC 9449) is only good with a proof of its key, never as a bearer token.
        const jkt = claims.cnf?.jkt;
        if (typeof jkt !== 'string' || jkt === '') {
          throw new TokenVerificationError(
            'invalid_token',
            'token cnf is not a DPoP key binding',
            undefined,
            'DPoP',
          );
        }
        if (!presented || presented.scheme !== 'DPoP') {
          throw new TokenVerificationError(
            'invalid_token',
            'DPoP-bound token needs the DPoP scheme and a proof',
            undefined,
            'DPoP',
          );
        }
        try {
          await verifyDpopProof(
            presented.proof,
            { method: presented.method, url: presented.url, accessToken: token, jkt },
            { replay, clock, iatWindowSeconds: dpopWindowSeconds },
          );
        } catch (error) {
          if (error instanceof DpopProofError) {
            throw new TokenVerificationError('invalid_dpop_proof', error.message);
          }
          throw error;
        }
      } else if (presented?.scheme === 'DPoP') {
        throw new TokenVerificationError('invalid_token', 'token is not DPoP-bound', undefined, 'DPoP');
      }
      const scopes = scopesOf(claims);
      const needed = [...(options.requiredScopes ?? []), ...(verifyOptions.requiredScopes ?? [])];
      const missing = needed.filter((s) => !scopes.includes(s));
      if (missing.length > 0) {
        throw new TokenVerificationError('insufficient_scope', `token lacks scope ${missing.join(' ')}`, [
          ...new Set(needed),
        ]);
      }
      if (introspection && !(await isActive(token, claims))) {
        throw new TokenVerificationError('invalid_token', 'token is not active');
      }
      const aud = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      return {
        token,
        claims,
        subject: claims.sub,
        clientId: claims.client_id,
        scopes,
        audience: aud,
        expiresAt: claims.exp!,
      };
    },
  };
}

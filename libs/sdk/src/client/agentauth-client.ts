import { type Clock, systemClock } from '../clock.js';
import { OAuthError, ProtocolError } from '../errors.js';
import {
  DEFAULT_RETRY_POLICY,
  type HttpContext,
  oauthErrorFrom,
  problemErrorFrom,
  type RetryOn,
  type RetryPolicy,
  send,
} from '../http.js';
import {
  type ClientAuthentication,
  clientSecretBasic,
  clientSecretPost,
  privateKeyJwt,
  type PrivateKeyJwtOptions,
} from './client-authentication.js';
import { type AuthorizationServerMetadata, discover, normalizeIssuer } from './discovery.js';
import { type DpopOptions, DpopProver } from './dpop.js';
import { authorizationScheme, type TokenSet, tokenSetFrom } from './token-set.js';

export const GRANT_TYPES = {
  clientCredentials: 'client_credentials',
  refreshToken: 'refresh_token',
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
  agentDelegation: 'urn:agentauth:grant-type:agent_delegation',
} as const;

export const TOKEN_TYPES = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

export interface AgentAuthClientOptions {
  /** The issuer: AgentAuth's public base URL (`PUBLIC_BASE_URL`), e.g. `https://auth.example.com`. */
  issuer: string;
  /** The agent id. Required unless `clientAuthentication` is given. */
  clientId?: string;
  /** The agent's API key (`aa_…`). */
  clientSecret?: string;
  /** How the API key is sent (default `client_secret_basic`). */
  authMethod?: 'client_secret_basic' | 'client_secret_post';
  /**
   * `private_key_jwt` (CONTRACT §9) instead of an API key: the private half of a public key registered for
   * the agent (`clientId`), with its `kid` and `alg` when not derived from the key.
   */
  privateKey?: Omit<PrivateKeyJwtOptions, 'clientId'>;
  /** Any other client authentication; wins over clientId/clientSecret/privateKey. */
  clientAuthentication?: ClientAuthentication;
  /**
   * Sender-constrained tokens (RFC 9449, CONTRACT §10): a DPoP proof on every token request binds the tokens
   * to this key pair (`true`: a new ES256 pair), and `fetch` sends them as `DPoP` with a proof (`ath`).
   * A server's `DPoP-Nonce` is kept and a `use_dpop_nonce` refusal retried once with it.
   */
  dpop?: DpopOptions | true;
  /**
   * Renew a cached token this many seconds before it expires (default 60). Never more than half the token's
   * lifetime, so a short-lived token is not renewed on every call.
   */
  renewBeforeExpirySeconds?: number;
  /** Retry policy for 429/5xx/network errors (defaults: 3 retries, 200 ms doubling, ≤ 5 s, Retry-After ≤ 60 s). */
  retry?: Partial<RetryPolicy>;
  /** The fetch implementation (default: the global fetch). */
  fetch?: typeof globalThis.fetch;
  /** Time source (tests inject a fake one). */
  clock?: Clock;
  /** Jitter source in [0, 1) (tests inject a constant). */
  random?: () => number;
}

/** What a token is for: scopes (space-separated or a list) and the RFC 8707 resource (the `aud`). */
export interface TokenRequest {
  scope?: string | string[];
  /** RFC 8707 resource indicator: the identifier of the API the token is for (absent: the management API). */
  resource?: string;
}

export interface ExchangeRequest extends TokenRequest {
  subjectToken: string;
  /** Default: an access token. */
  subjectTokenType?: string;
  actorToken?: string;
  actorTokenType?: string;
  /** RFC 8693 `audience` (a resource server's identifier). */
  audience?: string;
  requestedTokenType?: string;
}

export interface DelegateRequest {
  delegateAgentId: string;
  scopes: string[];
  expiresAt: Date | string;
  parentDelegationId?: string;
  maxDepth?: number;
}

/** A delegation as `POST /delegations` returns it, with the `delegation_token` for the delegate. */
export interface Delegation {
  id: string;
  delegator_agent_id: string;
  delegate_agent_id: string;
  scopes: string[];
  expires_at: string;
  delegation_token: string;
  [field: string]: unknown;
}

/** RFC 7662 introspection response. */
export interface IntrospectionResponse {
  active: boolean;
  scope?: string;
  client_id?: string;
  sub?: string;
  aud?: string | string[];
  iss?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
  jti?: string;
  token_type?: string;
  act?: Record<string, unknown>;
  [claim: string]: unknown;
}

interface CacheEntry {
  tokenSet: TokenSet;
  renewAt: number;
}

/** Scopes as one canonical string: split, de-duplicated, sorted (so `a b` and `b a` share a cache entry). */
export function canonicalScope(scope: string | string[] | undefined): string | undefined {
  if (scope === undefined) return undefined;
  const list = (Array.isArray(scope) ? scope : scope.split(' ')).map((s) => s.trim()).filter(Boolean);
  return list.length === 0 ? undefined : [...new Set(list)].sort().join(' ');
}

function isIdempotent(method: string | undefined): boolean {
  return ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'].includes((method ?? 'GET').toUpperCase());
}

/** Does a 401 say the token itself is bad (RFC 6750 §3.1 `invalid_token`)? */
function isInvalidTokenChallenge(res: Response): boolean {
  return res.status === 401 && /error="?invalid_token"?/i.test(res.headers.get('www-authenticate') ?? '');
}

/**
 * An agent's OAuth client for AgentAuth: discovery, cached tokens per (scope, resource) renewed ahead of
 * expiry with one request for any number of concurrent callers, retries on 5xx/429, refresh, token exchange,
 * delegation, revocation, introspection, and an authenticated `fetch`.
 */
export class AgentAuthClient {
  readonly issuer: string;
  private readonly auth: ClientAuthentication;
  private readonly http: HttpContext;
  private readonly renewBeforeMs: number;
  private metadataPromise?: Promise<AuthorizationServerMetadata>;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<TokenSet>>();
  private readonly dpopOptions?: DpopOptions;
  private dpopPromise?: Promise<DpopProver>;

  constructor(options: AgentAuthClientOptions) {
    this.issuer = normalizeIssuer(options.issuer);
    if (options.clientAuthentication) {
      this.auth = options.clientAuthentication;
    } else if (options.privateKey) {
      if (!options.clientId) throw new TypeError('AgentAuthClient needs the clientId of the private key');
      if (options.clientSecret) throw new TypeError('give clientSecret or privateKey, not both');
      this.auth = privateKeyJwt({ clientId: options.clientId, ...options.privateKey });
    } else {
      if (!options.clientId || !options.clientSecret) {
        throw new TypeError(
          'AgentAuthClient needs clientId and clientSecret (or privateKey), or clientAuthentication',
        );
      }
      this.auth =
        options.authMethod === 'client_secret_post'
          ? clientSecretPost(options.clientId, options.clientSecret)
          : clientSecretBasic(options.clientId, options.clientSecret);
    }
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.http = {
      fetch: fetchImpl,
      clock: options.clock ?? systemClock,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      random: options.random ?? Math.random,
    };
    this.renewBeforeMs = (options.renewBeforeExpirySeconds ?? 60) * 1000;
    if (options.dpop) this.dpopOptions = options.dpop === true ? {} : options.dpop;
  }

  /** The DPoP prover (undefined without the `dpop` option); its key pair is made or imported once. */
  private dpop(): Promise<DpopProver> | undefined {
    if (!this.dpopOptions) return undefined;
    this.dpopPromise ??= DpopProver.create(this.dpopOptions).catch((error: unknown) => {
      this.dpopPromise = undefined;
      throw error;
    });
    return this.dpopPromise;
  }

  /** The RFC 7638 thumbprint of the DPoP key (`cnf.jkt` of bound tokens); undefined without DPoP. */
  async dpopThumbprint(): Promise<string | undefined> {
    return (await this.dpop())?.thumbprint;
  }

  /** The agent id this client authenticates as. */
  get clientId(): string {
    return this.auth.clientId;
  }

  /** The server's metadata (fetched once; a failed fetch is retried on the next call). */
  metadata(): Promise<AuthorizationServerMetadata> {
    if (!this.metadataPromise) {
      this.metadataPromise = discover(this.http, this.issuer).catch((error: unknown) => {
        this.metadataPromise = undefined;
        throw error;
      });
    }
    return this.metadataPromise;
  }

  /** An access token for (scope, resource): the cached one while it is fresh, else a new one. */
  async getToken(request: TokenRequest = {}): Promise<string> {
    return (await this.getTokenSet(request)).accessToken;
  }

  /**
   * The token set for (scope, resource). Cached until `renewBeforeExpirySeconds` before expiry; concurrent
   * callers of one key share one request. A cached token with a refresh token is renewed by refreshing it
   * (falling back to client_credentials when the refresh is refused).
   */
  async getTokenSet(request: TokenRequest & { forceRenewal?: boolean } = {}): Promise<TokenSet> {
    const scope = canonicalScope(request.scope);
    const key = `${scope ?? ''}\u0000${request.resource ?? ''}`;
    const cached = this.cache.get(key);
    if (cached && !request.forceRenewal && this.http.clock.now() < cached.renewAt) return cached.tokenSet;
    const running = this.inflight.get(key);
    if (running) return running;
    const flight = this.renew(scope, request.resource, cached?.tokenSet)
      .then((tokenSet) => {
        this.cache.set(key, { tokenSet, renewAt: this.renewAt(tokenSet) });
        return tokenSet;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, flight);
    return flight;
  }

  /** Forgets the cached token(s): for one (scope, resource), or all of them. */
  invalidate(request?: TokenRequest): void {
    if (!request) {
      this.cache.clear();
      return;
    }
    this.cache.delete(`${canonicalScope(request.scope) ?? ''}\u0000${request.resource ?? ''}`);
  }

  /** A new token by client_credentials (not cached). */
  clientCredentials(request: TokenRequest = {}): Promise<TokenSet> {
    return this.grant(
      {
        grant_type: GRANT_TYPES.clientCredentials,
        scope: canonicalScope(request.scope),
        resource: request.resource,
      },
      'transient',
    );
  }

  /**
   * Refresh grant. Retried on 429 only: the server rotates the refresh token on use, and presenting it again
   * after an answer that was lost would be reuse (the whole family is revoked).
   */
  refresh(refreshToken: string, request: TokenRequest = {}): Promise<TokenSet> {
    return this.grant(
      {
        grant_type: GRANT_TYPES.refreshToken,
        refresh_token: refreshToken,
        scope: canonicalScope(request.scope),
        resource: request.resource,
      },
      'rate-limit',
    );
  }

  /** RFC 8693 token exchange: this agent (the actor) exchanges `subjectToken`. */
  exchange(request: ExchangeRequest): Promise<TokenSet> {
    return this.grant(
      {
        grant_type: GRANT_TYPES.tokenExchange,
        subject_token: request.subjectToken,
        subject_token_type: request.subjectTokenType ?? TOKEN_TYPES.accessToken,
        actor_token: request.actorToken,
        actor_token_type: request.actorToken
          ? (request.actorTokenType ?? TOKEN_TYPES.accessToken)
          : undefined,
        requested_token_type: request.requestedTokenType,
        scope: canonicalScope(request.scope),
        resource: request.resource,
        audience: request.audience,
      },
      'transient',
    );
  }

  /** A token from a delegation this agent is the delegate of (`agent_delegation` grant; with a refresh token). */
  tokenFromDelegation(delegationToken: string, request: TokenRequest = {}): Promise<TokenSet> {
    return this.grant(
      {
        grant_type: GRANT_TYPES.agentDelegation,
        delegation_token: delegationToken,
        scope: canonicalScope(request.scope),
        resource: request.resource,
      },
      'transient',
    );
  }

  /** Delegates `scopes` to another agent of the tree (`POST /delegations` with this agent's token). */
  async delegate(request: DelegateRequest): Promise<Delegation> {
    const metadata = await this.metadata();
    if (typeof metadata.delegations_endpoint !== 'string') {
      throw new ProtocolError('the discovery document names no delegations_endpoint');
    }
    const body: Record<string, unknown> = {
      delegate_agent_id: request.delegateAgentId,
      scopes: request.scopes,
      expires_at: request.expiresAt instanceof Date ? request.expiresAt.toISOString() : request.expiresAt,
    };
    if (request.parentDelegationId !== undefined) body.parent_delegation_id = request.parentDelegationId;
    if (request.maxDepth !== undefined) body.max_depth = request.maxDepth;
    const res = await this.fetch(metadata.delegations_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw await problemErrorFrom(res);
    return (await res.json()) as Delegation;
  }

  /** RFC 7009 revocation (always succeeds for unknown tokens, as the RFC says). */
  async revoke(token: string, tokenTypeHint?: 'access_token' | 'refresh_token'): Promise<void> {
    const metadata = await this.metadata();
    if (!metadata.revocation_endpoint) throw new ProtocolError('the server has no revocation_endpoint');
    const res = await this.postForm(
      metadata.revocation_endpoint,
      { token, token_type_hint: tokenTypeHint },
      'transient',
    );
    if (!res.ok) throw await oauthErrorFrom(res);
    await res.body?.cancel().catch(() => undefined);
  }

  /** RFC 7662 introspection (the agent needs the `tokens:introspect` scope among its allowed scopes). */
  async introspect(
    token: string,
    tokenTypeHint?: 'access_token' | 'refresh_token',
  ): Promise<IntrospectionResponse> {
    const metadata = await this.metadata();
    if (!metadata.introspection_endpoint) throw new ProtocolError('the server has no introspection_endpoint');
    const res = await this.postForm(
      metadata.introspection_endpoint,
      { token, token_type_hint: tokenTypeHint },
      'transient',
    );
    if (!res.ok) throw await oauthErrorFrom(res);
    const body = (await res.json()) as IntrospectionResponse;
    if (typeof body?.active !== 'boolean') throw new ProtocolError('introspection response has no active');
    return body;
  }

  /**
   * `fetch` with this agent's token in the scheme its type names (`Bearer`, or `DPoP` for bound tokens).
   * A 401 whose challenge says `invalid_token` (revoked, rotated key…) is retried once with a new token.
   * GET/PUT/DELETE are retried on 5xx/429 by the retry policy; POST/PATCH on 429 only. `init.body` must be
   * a string (or absent) so it can be sent again.
   */
  async fetch(
    url: string | URL,
    init: Omit<RequestInit, 'body'> & { body?: string } = {},
    request: TokenRequest = {},
  ): Promise<Response> {
    const target = String(url);
    const retryOn: RetryOn = isIdempotent(init.method) ? 'transient' : 'rate-limit';
    const prover = await this.dpop();
    const method = (init.method ?? 'GET').toUpperCase();
    const attempt = async (forceRenewal: boolean): Promise<Response> => {
      const tokenSet = await this.getTokenSet({ ...request, forceRenewal });
      const scheme = authorizationScheme(tokenSet.tokenType);
      // Built anew for every attempt: a DPoP proof is single use.
      const build = async () => {
        const headers = new Headers(init.headers);
        headers.set('Authorization', `${scheme} ${tokenSet.accessToken}`);
        if (scheme === 'DPoP' && prover) {
          headers.set('DPoP', await prover.proof({ method, url: target, accessToken: tokenSet.accessToken }));
        }
        return { ...init, headers };
      };
      const res = await send(this.http, target, build, retryOn);
      if (scheme !== 'DPoP' || !prover || !(await prover.needsNonceRetry(target, res))) return res;
      await res.body?.cancel().catch(() => undefined);
      return send(this.http, target, build, retryOn);
    };
    const first = await attempt(false);
    if (!isInvalidTokenChallenge(first)) return first;
    await first.body?.cancel().catch(() => undefined);
    return attempt(true);
  }

  /** The HTTP context (fetch, clock, retry policy) for companion clients of the same agent. */
  httpContext(): HttpContext {
    return this.http;
  }

  private renewAt(tokenSet: TokenSet): number {
    const now = this.http.clock.now();
    const lifetime = Math.max(0, tokenSet.expiresAt - now);
    return tokenSet.expiresAt - Math.min(this.renewBeforeMs, lifetime / 2);
  }

  private async renew(
    scope: string | undefined,
    resource: string | undefined,
    previous?: TokenSet,
  ): Promise<TokenSet> {
    if (previous?.refreshToken) {
      try {
        return await this.refresh(previous.refreshToken, { scope, resource });
      } catch (error) {
        if (!(error instanceof OAuthError) || error.error !== 'invalid_grant') throw error;
      }
    }
    return this.clientCredentials({ scope, resource });
  }

  private async grant(params: Record<string, string | undefined>, retryOn: RetryOn): Promise<TokenSet> {
    const metadata = await this.metadata();
    const sentAt = this.http.clock.now();
    const res = await this.postForm(metadata.token_endpoint, params, retryOn, true);
    if (!res.ok) throw await oauthErrorFrom(res);
    return tokenSetFrom(await res.json(), sentAt);
  }

  /** A form POST with client authentication (and, at the token endpoint with DPoP on, a proof). */
  private async postForm(
    endpoint: string,
    params: Record<string, string | undefined>,
    retryOn: RetryOn,
    withProof = false,
  ): Promise<Response> {
    const prover = withProof ? await this.dpop() : undefined;
    // Built anew for every attempt: a private_key_jwt assertion (and a DPoP proof) is single use.
    const build = async (): Promise<RequestInit & { body: string }> => {
      const body = new URLSearchParams();
      for (const [name, value] of Object.entries(params)) if (value !== undefined) body.set(name, value);
      const headers = new Headers({
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      });
      await this.auth.apply({ headers, body, endpoint, issuer: this.issuer });
      if (prover) headers.set('DPoP', await prover.proof({ method: 'POST', url: endpoint }));
      return { method: 'POST', headers, body: body.toString() };
    };
    const res = await send(this.http, endpoint, build, retryOn);
    if (!prover || !(await prover.needsNonceRetry(endpoint, res))) return res;
    await res.body?.cancel().catch(() => undefined);
    return send(this.http, endpoint, build, retryOn);
  }
}

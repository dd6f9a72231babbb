import type { ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Principal } from './principal';

/**
 * Where a refusal is answered: the request, the response when the refuser may set headers on it, and the
 * route handler (whose `@Audited` metadata names an authorization refusal's event). The global AuthGuard
 * builds it from its ExecutionContext; an endpoint that authenticates by itself (introspection's Bearer
 * caller, the OAuth endpoints' refusals before client authentication) passes its request, so its refusals
 * are counted and audited by the same two ports, not by a copy of them.
 */
export interface RefusalSite {
  req: Request;
  res?: Response;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  handler?: Function;
}

/** The refusal site of a guard's (HTTP) execution context. */
export function refusalSiteOf(context: ExecutionContext): RefusalSite {
  const http = context.switchToHttp();
  return {
    req: http.getRequest<Request>(),
    res: http.getResponse<Response>(),
    handler: context.getHandler(),
  };
}

/**
 * A request the global AuthGuard is about to refuse. Guards run before interceptors, so these refusals never
 * reach the audit interceptor nor the rate-limit guard: the AuthGuard hands them to the two ports below.
 */
export type GuardRefusal = AuthenticationRefusal | AuthorizationRefusal;

/** 401: no valid credential for the route (CONTRACT §7 "failed client auth"). */
export interface AuthenticationRefusal {
  kind: 'authentication';
  /**
   * `bearer_required` (no usable `Authorization: Bearer` credential), `invalid_token` (a Bearer token that is
   * not active), `admin_key` (missing or wrong `X-Admin-Key` on an `@AdminOnly` route), `invalid_client`
   * (an OAuth endpoint's request refused before its client was authenticated: counted only, the endpoint
   * writes its own event).
   */
  reason: 'bearer_required' | 'invalid_token' | 'admin_key' | 'invalid_client';
  /** Why, for the audit trail only (`missing`, `mismatch`, `bad_signature`, `revoked`, …); never a secret. */
  cause: string;
  /** Extra audit details of the refusing endpoint (e.g. `{endpoint: 'introspect'}`); never a secret. */
  details?: Record<string, unknown>;
}

/** 403 `insufficient_scope`: an authenticated token whose scopes do not cover the route's `@Auth` scopes. */
export interface AuthorizationRefusal {
  kind: 'authorization';
  principal: Principal;
  requiredScopes: readonly string[];
  missingScopes: readonly string[];
}

/**
 * Limits refusals before they are answered (provided by RateLimitModule): a failed authentication counts
 * against the client IP's bucket, an authorization refusal against the agent's, in one Redis round trip.
 * Throws the 429 problem (Retry-After, RateLimit-*) when the bucket is over its limit; otherwise may set
 * the informational RateLimit-* headers on the response and resolves.
 */
export interface RefusalThrottle {
  throttle(site: RefusalSite, refusal: GuardRefusal): Promise<void>;
}

export const REFUSAL_THROTTLE = Symbol('REFUSAL_THROTTLE');

/**
 * Records a refusal in the audit trail (provided by AuditModule, through AuditService): one
 * `client_auth.failed` event per failed authentication, one `denied` event per authorization refusal.
 */
export interface RefusalAudit {
  record(site: RefusalSite, refusal: GuardRefusal): Promise<void>;
}

export const REFUSAL_AUDIT = Symbol('REFUSAL_AUDIT');

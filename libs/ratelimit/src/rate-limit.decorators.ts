import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { AppConfig } from '@agentauth/core';

export const RATE_LIMIT_RULES = 'agentauth:rate-limit-rules';
export const SKIP_RATE_LIMIT = 'agentauth:skip-rate-limit';
export const CLIENT_AUTH_RATE_LIMIT = 'agentauth:client-auth-rate-limit';

/** A limit: a number, or read from the config (so tests and deployments change it by env). */
export type LimitValue = number | ((config: AppConfig) => number);

/**
 * An extra, named limit on a route, on top of the default one (per agent on `@Auth` routes, per IP on
 * `@Public` ones). Exactly one of `perMinute` / `perHour`.
 */
export interface RateLimitRule {
  /** Bucket name, e.g. `bootstrap` → bucket `bootstrap:ip:<ip>`. */
  bucket: string;
  /** Who is counted: the client IP (default) or the authenticated agent (falls back to the IP). */
  per?: 'ip' | 'agent';
  perMinute?: LimitValue;
  perHour?: LimitValue;
}

/** Adds a named sliding-window limit to a route (checked in the same Redis call as the default one). */
export const RateLimit = (rule: RateLimitRule): MethodDecorator & ClassDecorator => {
  if ((rule.perMinute === undefined) === (rule.perHour === undefined)) {
    throw new Error(`@RateLimit(${rule.bucket}) needs exactly one of perMinute / perHour`);
  }
  return applyDecorators(
    SetMetadata(RATE_LIMIT_RULES, [rule]),
    ApiResponse({ status: 429, description: 'Rate limited (Retry-After, RateLimit-* headers)' }),
  );
};

/** `POST /agents/bootstrap`: BOOTSTRAP_RATE_LIMIT_PER_HOUR per IP (in addition to the per-IP minute limit). */
export const BootstrapRateLimit = (): MethodDecorator & ClassDecorator =>
  RateLimit({ bucket: 'bootstrap', perHour: (config) => config.bootstrapRateLimitPerHour });

/**
 * A client-authentication endpoint (token, introspection, revocation — applied to those paths
 * automatically): the guard only checks that the IP has room; the handler counts failures with
 * `RateLimiterService.recordFailedClientAuth(ip)`; a refusal is rendered the RFC 6749 way.
 */
export const ClientAuthRateLimit = (): MethodDecorator & ClassDecorator =>
  SetMetadata(CLIENT_AUTH_RATE_LIMIT, true);

/** Never rate limited (/health, /ready, /metrics are exempt by path already). */
export const SkipRateLimit = (): MethodDecorator & ClassDecorator => SetMetadata(SKIP_RATE_LIMIT, true);

import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import {
  ADMIN_ONLY,
  APP_CONFIG,
  type AppConfig,
  ClientIpResolver,
  FORM_ENCODED_PATHS,
  IS_PUBLIC,
  type Principal,
  requestIdOf,
  RouteMetadataCache,
} from '@agentauth/core';
import { agentBucket, HOUR_MS, ipBucket, MINUTE_MS, namedAgentBucket, namedIpBucket } from './buckets';
import { rateLimitHeaders, type RateLimitSpec } from './rate-limit-decision';
import {
  CLIENT_AUTH_RATE_LIMIT,
  type LimitValue,
  RATE_LIMIT_RULES,
  type RateLimitRule,
  SKIP_RATE_LIMIT,
} from './rate-limit.decorators';
import { RateLimitedError } from './rate-limited.error';
import { RateLimiterService } from './rate-limiter.service';

/** Paths outside the API prefix that are never limited (CONTRACT §7; Prometheus scrapes /metrics). */
export const UNLIMITED_PATHS = ['/health', '/ready', '/metrics'];

export interface RoutePlan {
  specs: RateLimitSpec[];
  clientAuthentication: boolean;
}

/**
 * The global rate-limit guard. Registered after the authentication guard (global guards run in
 * registration order), so `req.principal` is known: `@Auth` routes count against the calling agent
 * (`principal.actorAgentId`), `@Public` routes against the client IP (on the OAuth endpoints only checked:
 * failures are counted by the handler), `@AdminOnly` routes are not limited (a high-entropy operator key).
 * `@RateLimit` rules add named limits in the same Redis call. What the authentication guard refuses (401,
 * 403 insufficient_scope) never reaches this guard: it is counted by `GuardRefusalThrottle` instead.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly unlimited = new Set(UNLIMITED_PATHS);
  private readonly clientAuthPaths: Set<string>;
  /** Each route's rate-limit metadata, read on its first request (never per request). */
  private readonly routes = new RouteMetadataCache((targets) => ({
    skip: this.reflector.getAllAndOverride<boolean>(SKIP_RATE_LIMIT, targets) === true,
    isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true,
    isAdmin: this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets) === true,
    clientAuthentication: this.reflector.getAllAndOverride<boolean>(CLIENT_AUTH_RATE_LIMIT, targets) === true,
    rules: this.reflector.getAllAndMerge<RateLimitRule[]>(RATE_LIMIT_RULES, targets) ?? [],
  }));

  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiterService,
    private readonly clientIp: ClientIpResolver,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.clientAuthPaths = new Set(FORM_ENCODED_PATHS.map((path) => `${config.apiPrefix}${path}`));
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    if (this.routes.of(context).skip) return true;
    const http = context.switchToHttp();
    const req = http.getRequest<Request & { principal?: Principal }>();
    if (this.unlimited.has(normalizePath(req.path))) return true;

    const plan = await this.plan(req, context);
    if (plan.specs.length === 0) return true;
    const ip = this.clientIp.resolve(req);
    const principal = req.principal;
    const outcome = await this.limiter.evaluate(plan.specs, {
      ip,
      agentId: principal?.actorAgentId,
      rootAgentId: principal?.rootAgentId,
      requestId: requestIdOf(req),
    });
    if (outcome.failedOpen) return true;
    if (!outcome.allowed) throw new RateLimitedError(outcome.decisive, plan.clientAuthentication);
    const res = http.getResponse<Response>();
    for (const [name, value] of Object.entries(rateLimitHeaders(outcome.decisive)))
      res.setHeader(name, value);
    return true;
  }

  /** Which buckets a request counts against. */
  async plan(req: Request & { principal?: Principal }, context: ExecutionContext): Promise<RoutePlan> {
    const route = this.routes.of(context);
    const principal = req.principal;
    const { isPublic, isAdmin, rules } = route;
    const clientAuthentication =
      route.clientAuthentication || this.clientAuthPaths.has(normalizePath(req.path));
    const ip = this.clientIp.resolve(req);
    const specs: RateLimitSpec[] = [];
    if (principal) {
      const agentId = principal.actorAgentId;
      specs.push({
        bucket: agentBucket(agentId),
        limit: await this.limiter.agentLimit(agentId),
        windowMs: MINUTE_MS,
      });
    } else if (isPublic && !isAdmin) {
      specs.push({
        bucket: ipBucket(ip),
        limit: this.config.rateLimitIpPerMinute,
        windowMs: MINUTE_MS,
        mode: clientAuthentication ? 'check' : 'consume',
      });
    }
    for (const rule of rules) {
      const windowMs = rule.perHour !== undefined ? HOUR_MS : MINUTE_MS;
      const limit = this.resolveLimit((rule.perHour ?? rule.perMinute) as LimitValue);
      const bucket =
        rule.per === 'agent' && principal
          ? namedAgentBucket(rule.bucket, principal.actorAgentId)
          : namedIpBucket(rule.bucket, ip);
      if (!specs.some((s) => s.bucket === bucket)) specs.push({ bucket, limit, windowMs });
    }
    return { specs, clientAuthentication };
  }

  private resolveLimit(value: LimitValue): number {
    return typeof value === 'function' ? value(this.config) : value;
  }
}

/** `/api/v1/auth/token/` → `/api/v1/auth/token` (Express routes match either). */
export function normalizePath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

import { CanActivate, ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { coveredBy } from '@agentauth/scopes';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { protectedResourceMetadataUrl } from '../config/management-resource';
import { constantTimeEqual } from '../crypto/constant-time';
import { ForbiddenProblem, Problem, UnauthorizedProblem } from '../errors/problems';
import type { RequestWithContext } from '../http/request-context';
import { RouteMetadataCache } from '../http/route-metadata';
import { ADMIN_ONLY, AUTH_REQUIREMENT, type AuthRequirement } from './auth.decorator';
import {
  type AccessTokenScheme,
  BEARER_AUTHENTICATOR,
  type BearerAuthenticator,
} from './bearer-authenticator';
import {
  type GuardRefusal,
  REFUSAL_AUDIT,
  REFUSAL_THROTTLE,
  type RefusalAudit,
  type RefusalThrottle,
  refusalSiteOf,
} from './guard-refusals';
import type { Principal, RequestWithPrincipal } from './principal';
import { IS_PUBLIC } from './public.decorator';

/** `aa_<prefix>_…`: the shape of an AgentAuth API key (libs/credentials), never that of a JWT (`eyJ…`). */
const API_KEY_SHAPE = /^aa_[a-z0-9]+_/;

/** Extracts the credential of `Authorization: Bearer <credential>` (RFC 6750 §2.1), or undefined. */
export function bearerCredential(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
  return match?.[1];
}

/** The access token of `Authorization: Bearer <token>` or `Authorization: DPoP <token>` (RFC 9449 §7.1). */
export function accessTokenCredential(
  req: Request,
): { scheme: AccessTokenScheme; token: string } | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
  if (!match) return undefined;
  return { scheme: match[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] };
}

/**
 * The global deny-by-default guard. A route opens only through `@Public()`, `@AdminOnly()` or
 * `@Auth({ scopes })`; a route with none of them answers 401 to everyone (and fails the route-table test).
 *
 * Every refusal it answers (401 failed authentication, 403 insufficient scope) first goes through the
 * `RefusalThrottle` (a failed authentication counts against the client IP's limit, an authorization refusal
 * against the agent's; over the limit the answer is 429 and nothing is audited beyond the limiter's
 * once-per-window event), then through the `RefusalAudit` (exactly one event). Guards run before the
 * rate-limit guard and the audit interceptor, so without this nothing would count or record them.
 * Only failures count: a valid credential is never refused because its IP's failure budget is spent.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  /** Each route's `@Public` / `@AdminOnly` / `@Auth` metadata, read on its first request. */
  private readonly routes = new RouteMetadataCache((targets) => ({
    isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true,
    adminOnly: this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets) === true,
    requirement: this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH_REQUIREMENT, targets),
  }));

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(BEARER_AUTHENTICATOR) private readonly authenticator?: BearerAuthenticator,
    @Optional() @Inject(REFUSAL_THROTTLE) private readonly throttle?: RefusalThrottle,
    @Optional() @Inject(REFUSAL_AUDIT) private readonly audit?: RefusalAudit,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const route = this.routes.of(context);
    if (route.isPublic) return true;
    const req = context.switchToHttp().getRequest<Request & RequestWithPrincipal & RequestWithContext>();

    if (route.adminOnly) {
      const presented = req.headers['x-admin-key'];
      const missing = typeof presented !== 'string' || presented.length === 0;
      if (missing || !constantTimeEqual(presented, this.config.adminApiKey)) {
        return this.refuse(
          context,
          { kind: 'authentication', reason: 'admin_key', cause: missing ? 'missing' : 'mismatch' },
          new UnauthorizedProblem('A valid X-Admin-Key header is required', 'admin_key_required', 'AdminKey'),
        );
      }
      return true;
    }

    const requirement = route.requirement;
    if (!requirement || !this.authenticator) {
      throw withResourceMetadata(
        new UnauthorizedProblem('This route does not accept any credential'),
        protectedResourceMetadataUrl(this.config),
      );
    }
    const credential = accessTokenCredential(req);
    if (!credential) {
      return this.refuse(
        context,
        {
          kind: 'authentication',
          reason: 'bearer_required',
          cause: req.headers.authorization === undefined ? 'missing' : 'malformed_authorization',
        },
        new UnauthorizedProblem('A Bearer (or DPoP) access token is required'),
      );
    }
    if (API_KEY_SHAPE.test(credential.token)) {
      // A frequent first mistake: the API key itself sent as the Bearer token. Say what to do instead (the
      // answer names no key and says nothing about whether this one is valid).
      return this.refuse(
        context,
        { kind: 'authentication', reason: 'invalid_token', cause: 'api_key_as_bearer' },
        new UnauthorizedProblem(
          `This is an API key, not an access token: exchange it at POST ${this.config.apiPrefix}/auth/token ` +
            '(grant_type=client_credentials, HTTP Basic with the agent id as user name and the API key as password) ' +
            'and send the access_token it returns as the Bearer token',
          'invalid_token',
          'Bearer error="invalid_token"',
        ),
      );
    }
    let principal: Principal;
    try {
      principal = await this.authenticator.authenticate(credential.token, req, credential.scheme);
    } catch (error) {
      // 401: the token is not active. Anything else (503: revocation state unreadable) is not the client's
      // failure: it is neither counted nor audited, and fails closed as it is.
      if (!(error instanceof Problem) || error.status !== 401) throw error;
      return this.refuse(
        context,
        { kind: 'authentication', reason: 'invalid_token', cause: rejectionCause(error) },
        error,
      );
    }
    req.principal = principal;
    req.agentId = principal.actorAgentId;
    const missing = requirement.scopes.filter((scope) => !coveredBy(scope, principal.scopes));
    if (missing.length > 0) {
      return this.refuse(
        context,
        { kind: 'authorization', principal, requiredScopes: requirement.scopes, missingScopes: missing },
        new ForbiddenProblem(
          `The access token lacks the scope(s): ${missing.join(' ')}`,
          'insufficient_scope',
        ),
      );
    }
    return true;
  }

  /**
   * Counts the refusal (may answer 429 instead), records its one audit event, then answers `error` — a
   * Bearer 401 naming the management API's RFC 9728 metadata (`withResourceMetadata`).
   */
  private async refuse(context: ExecutionContext, refusal: GuardRefusal, error: Problem): Promise<never> {
    const site = refusalSiteOf(context);
    await this.throttle?.throttle(site, refusal);
    await this.audit?.record(site, refusal);
    throw withResourceMetadata(error, protectedResourceMetadataUrl(this.config));
  }
}

/**
 * CONTRACT §8, RFC 9728 §5.1: every Bearer challenge of the management API names its protected-resource
 * metadata, so a client that got a 401 finds the authorization server (`Bearer resource_metadata="…"`, after
 * the RFC 6750 `error` when there is one). The challenge stays first; other schemes are left alone.
 */
export function withResourceMetadata(error: Problem, metadataUrl: string): Problem {
  const headers = error.extra.headers;
  const challenge = headers?.['WWW-Authenticate'];
  if (error.status !== 401 || !headers || challenge === undefined || !/^Bearer(\s|$)/.test(challenge)) {
    return error;
  }
  if (challenge.includes('resource_metadata=')) return error;
  // The Bearer challenge may be followed by others (`…, DPoP error="…"`): the parameter joins the Bearer one.
  const next = /,\s*DPoP(\s|$)/.exec(challenge);
  const bearer = next ? challenge.slice(0, next.index) : challenge;
  const rest = next ? challenge.slice(next.index) : '';
  const params = bearer.slice('Bearer'.length).trim();
  headers['WWW-Authenticate'] =
    `Bearer ${params.length > 0 ? `${params}, ` : ''}resource_metadata="${metadataUrl}"${rest}`;
  return error;
}

/** The authenticator's reason for a refused token (e.g. `TokenRejectedError.reason`), else its problem code. */
function rejectionCause(error: Problem): string {
  const reason = (error as { reason?: unknown }).reason;
  return typeof reason === 'string' ? reason : error.code;
}

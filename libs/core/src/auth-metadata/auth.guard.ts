import { CanActivate, ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { coveredBy } from '@agentauth/scopes';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { constantTimeEqual } from '../crypto/constant-time';
import { ForbiddenProblem, Problem, UnauthorizedProblem } from '../errors/problems';
import type { RequestWithContext } from '../http/request-context';
import { ADMIN_ONLY, AUTH_REQUIREMENT, type AuthRequirement } from './auth.decorator';
import { BEARER_AUTHENTICATOR, type BearerAuthenticator } from './bearer-authenticator';
import {
  type GuardRefusal,
  REFUSAL_AUDIT,
  REFUSAL_THROTTLE,
  type RefusalAudit,
  type RefusalThrottle,
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
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(BEARER_AUTHENTICATOR) private readonly authenticator?: BearerAuthenticator,
    @Optional() @Inject(REFUSAL_THROTTLE) private readonly throttle?: RefusalThrottle,
    @Optional() @Inject(REFUSAL_AUDIT) private readonly audit?: RefusalAudit,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = context.switchToHttp().getRequest<Request & RequestWithPrincipal & RequestWithContext>();

    if (this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets)) {
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

    const requirement = this.reflector.getAllAndOverride<AuthRequirement>(AUTH_REQUIREMENT, targets);
    if (!requirement || !this.authenticator) {
      throw new UnauthorizedProblem('This route does not accept any credential');
    }
    const credential = bearerCredential(req);
    if (!credential) {
      return this.refuse(
        context,
        {
          kind: 'authentication',
          reason: 'bearer_required',
          cause: req.headers.authorization === undefined ? 'missing' : 'malformed_authorization',
        },
        new UnauthorizedProblem('A Bearer access token is required'),
      );
    }
    if (API_KEY_SHAPE.test(credential)) {
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
      principal = await this.authenticator.authenticate(credential, req);
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

  /** Counts the refusal (may answer 429 instead), records its one audit event, then answers `error`. */
  private async refuse(context: ExecutionContext, refusal: GuardRefusal, error: Problem): Promise<never> {
    await this.throttle?.throttle(context, refusal);
    await this.audit?.record(context, refusal);
    throw error;
  }
}

/** The authenticator's reason for a refused token (e.g. `TokenRejectedError.reason`), else its problem code. */
function rejectionCause(error: Problem): string {
  const reason = (error as { reason?: unknown }).reason;
  return typeof reason === 'string' ? reason : error.code;
}

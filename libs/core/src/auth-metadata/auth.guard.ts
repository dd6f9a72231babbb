import { CanActivate, ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { coveredBy } from '@agentauth/scopes';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { constantTimeEqual } from '../crypto/constant-time';
import { ForbiddenProblem, UnauthorizedProblem } from '../errors/problems';
import type { RequestWithContext } from '../http/request-context';
import { ADMIN_ONLY, AUTH_REQUIREMENT, type AuthRequirement } from './auth.decorator';
import { BEARER_AUTHENTICATOR, type BearerAuthenticator } from './bearer-authenticator';
import type { RequestWithPrincipal } from './principal';
import { IS_PUBLIC } from './public.decorator';

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
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(BEARER_AUTHENTICATOR) private readonly authenticator?: BearerAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = context.switchToHttp().getRequest<Request & RequestWithPrincipal & RequestWithContext>();

    if (this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets)) {
      const presented = req.headers['x-admin-key'];
      if (typeof presented !== 'string' || !constantTimeEqual(presented, this.config.adminApiKey)) {
        throw new UnauthorizedProblem(
          'A valid X-Admin-Key header is required',
          'admin_key_required',
          'AdminKey',
        );
      }
      return true;
    }

    const requirement = this.reflector.getAllAndOverride<AuthRequirement>(AUTH_REQUIREMENT, targets);
    if (!requirement || !this.authenticator) {
      throw new UnauthorizedProblem('This route does not accept any credential');
    }
    const credential = bearerCredential(req);
    if (!credential) throw new UnauthorizedProblem('A Bearer access token is required');
    const principal = await this.authenticator.authenticate(credential, req);
    req.principal = principal;
    req.agentId = principal.actorAgentId;
    const missing = requirement.scopes.filter((scope) => !coveredBy(scope, principal.scopes));
    if (missing.length > 0) {
      throw new ForbiddenProblem(
        `The access token lacks the scope(s): ${missing.join(' ')}`,
        'insufficient_scope',
      );
    }
    return true;
  }
}

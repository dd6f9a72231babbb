import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  UnauthorizedException,
} from '@nestjs/common';
import { ServiceUnavailableException } from '@nestjs/common';
import { authenticate, presentedRequestOf, type ProtectionOptions } from '../resource-server/challenge.js';
import type { TokenVerifier, VerifiedToken } from '../resource-server/verifier.js';

interface GuardedRequest {
  headers: Record<string, string | string[] | undefined>;
  method?: string;
  originalUrl?: string;
  url?: string;
  protocol?: string;
  agentAuth?: VerifiedToken;
}

interface GuardedResponse {
  setHeader(name: string, value: string): unknown;
}

/**
 * A NestJS guard for AgentAuth access tokens: `@UseGuards(new AgentAuthGuard(verifier, { requiredScopes }))`.
 * On success the verified token is on `request.agentAuth`; a refusal sets `WWW-Authenticate` and throws
 * 401/403 with the RFC 6750 body (`{error, error_description}`); a JWKS or introspection outage is 503.
 */
export class AgentAuthGuard implements CanActivate {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly options: ProtectionOptions = {},
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<GuardedRequest>();
    let outcome: Awaited<ReturnType<typeof authenticate>>;
    try {
      outcome = await authenticate(
        this.verifier,
        request.headers.authorization,
        this.options,
        presentedRequestOf(request, this.options),
      );
    } catch {
      throw new ServiceUnavailableException({
        error: 'temporarily_unavailable',
        error_description: 'token check unavailable',
      });
    }
    if (outcome.ok) {
      request.agentAuth = outcome.token;
      return true;
    }
    const response = http.getResponse<GuardedResponse>();
    for (const [name, value] of Object.entries(outcome.refusal.headers)) response.setHeader(name, value);
    if (outcome.refusal.status === 403) throw new ForbiddenException(outcome.refusal.body);
    throw new UnauthorizedException(outcome.refusal.body);
  }
}

/** The verified token of a request the guard let through. */
export function agentAuthOf(request: { agentAuth?: VerifiedToken }): VerifiedToken {
  if (!request.agentAuth)
    throw new Error('no verified AgentAuth token on this request (is AgentAuthGuard applied?)');
  return request.agentAuth;
}

import { Body, Controller, Get, Global, Injectable, Module, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import {
  Auth,
  BEARER_AUTHENTICATOR,
  type BearerAuthenticator,
  ClientIpResolver,
  CurrentPrincipal,
  type Principal,
  Public,
  requestIdOf,
  UnauthorizedProblem,
} from '@agentauth/core';
import { BootstrapRateLimit, ClientAuthRateLimit, RateLimiterService } from '@agentauth/ratelimit';

const TEST_BEARER = /^agent-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Test only: `Bearer agent-<uuid>` authenticates as root agent <uuid>, with no scopes. */
@Injectable()
export class TestBearerAuthenticator implements BearerAuthenticator {
  async authenticate(bearer: string): Promise<Principal> {
    const match = TEST_BEARER.exec(bearer);
    if (!match) throw new UnauthorizedProblem('Unknown test bearer');
    const id = match[1];
    return { actorAgentId: id, subjectAgentId: id, rootAgentId: id, scopes: [] };
  }
}

/** Test-only routes that exercise the rate-limit guard while the real agents/token modules are elsewhere. */
@Controller('ratelimit-probe')
export class RateLimitProbeController {
  constructor(
    private readonly limiter: RateLimiterService,
    private readonly clientIp: ClientIpResolver,
  ) {}

  @Public()
  @Get('public')
  publicRoute(@Req() req: Request) {
    return { ip: this.clientIp.resolve(req) };
  }

  @Auth({ scopes: [] })
  @Get('agent')
  agentRoute(@CurrentPrincipal() principal: Principal) {
    return { agent_id: principal.actorAgentId };
  }

  /** The test bearer carries no scope: every call is refused 403 insufficient_scope by the auth guard. */
  @Auth({ scopes: ['agents:write'] })
  @Get('agent-write')
  agentWriteRoute() {
    return { reached: true };
  }

  @Public()
  @BootstrapRateLimit()
  @Post('bootstrap')
  bootstrapRoute() {
    return { ok: true };
  }

  /** Stands in for the token endpoint: only failed client authentication counts against the IP. */
  @Public()
  @ClientAuthRateLimit()
  @Post('client-auth')
  async clientAuthRoute(@Req() req: Request, @Body() body: { client_secret?: string }) {
    if (body?.client_secret !== 'right') {
      await this.limiter.recordFailedClientAuth(this.clientIp.resolve(req), { requestId: requestIdOf(req) });
      throw new UnauthorizedProblem('invalid_client', 'invalid_client', 'Basic');
    }
    return { access_token: 'probe' };
  }
}

@Global()
@Module({
  controllers: [RateLimitProbeController],
  providers: [{ provide: BEARER_AUTHENTICATOR, useClass: TestBearerAuthenticator }],
  exports: [BEARER_AUTHENTICATOR],
})
export class RateLimitProbeModule {}

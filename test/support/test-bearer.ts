// Test-only Bearer authentication, until the real token verification exists: the Bearer credential is
// `test.<base64url JSON of a principal>`. (The RFC 6750 credential syntax the guard enforces has no ':',
// hence not `test:<rootId>`.)
import { Global, Module } from '@nestjs/common';
import {
  BEARER_AUTHENTICATOR,
  type BearerAuthenticator,
  type Principal,
  UnauthorizedProblem,
} from '@agentauth/core';
import { BUILT_IN_SCOPES } from '@agentauth/scopes';

/** A Bearer credential for a principal: acts as `rootAgentId` with every built-in scope unless told otherwise. */
export function testBearer(principal: Partial<Principal> & { rootAgentId: string }): string {
  const full: Principal = {
    actorAgentId: principal.rootAgentId,
    subjectAgentId: principal.rootAgentId,
    scopes: [...BUILT_IN_SCOPES],
    ...principal,
  };
  return `test.${Buffer.from(JSON.stringify(full)).toString('base64url')}`;
}

export const testBearerAuthenticator: BearerAuthenticator = {
  async authenticate(bearer: string): Promise<Principal> {
    if (!bearer.startsWith('test.')) throw new UnauthorizedProblem('Unknown test token');
    try {
      return JSON.parse(Buffer.from(bearer.slice(5), 'base64url').toString('utf8')) as Principal;
    } catch {
      throw new UnauthorizedProblem('Malformed test token');
    }
  },
};

/**
 * Provides BEARER_AUTHENTICATOR globally. Use it with the override as well, so it wins once the real
 * authenticator is registered: `createTestApp(env, testBearerOptions())`.
 */
@Global()
@Module({
  providers: [{ provide: BEARER_AUTHENTICATOR, useValue: testBearerAuthenticator }],
  exports: [BEARER_AUTHENTICATOR],
})
export class TestBearerModule {}

export function testBearerOptions() {
  return {
    extraModules: [TestBearerModule],
    overrideProviders: [{ provide: BEARER_AUTHENTICATOR, useValue: testBearerAuthenticator }],
  };
}

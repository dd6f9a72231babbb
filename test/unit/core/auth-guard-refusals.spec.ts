import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '../../../libs/core/src/auth-metadata/auth.guard';
import { AUTH_REQUIREMENT } from '../../../libs/core/src/auth-metadata/auth.decorator';
import type { GuardRefusal, RefusalSite } from '../../../libs/core/src/auth-metadata/guard-refusals';
import type { Principal } from '../../../libs/core/src/auth-metadata/principal';
import type { AppConfig } from '../../../libs/core/src/config/app-config';
import { routeContext } from './route-context';
import {
  ServiceUnavailableProblem,
  TooManyRequestsProblem,
  UnauthorizedProblem,
} from '../../../libs/core/src/errors/problems';

const PRINCIPAL: Principal = {
  actorAgentId: 'a',
  subjectAgentId: 'a',
  rootAgentId: 'a',
  scopes: ['agents:read'],
};

function bearerRoute(headers: Record<string, string>, scopes: string[] = []): ExecutionContext {
  return routeContext(AUTH_REQUIREMENT, { scopes }, headers);
}

/** The order of a refusal: count it (may become 429), record it once, answer it; only client failures. */
describe('AuthGuard refusals', () => {
  const calls: string[] = [];
  const throttle = {
    throttle: jest.fn(async (_s: RefusalSite, r: GuardRefusal) => void calls.push(`throttle:${r.kind}`)),
  };
  const audit = {
    record: jest.fn(async (_s: RefusalSite, r: GuardRefusal) => void calls.push(`audit:${r.kind}`)),
  };
  const authenticate = jest.fn<Promise<Principal>, [string]>();
  const guard = new AuthGuard(new Reflector(), {} as AppConfig, { authenticate }, throttle, audit);
  beforeEach(() => {
    calls.length = 0;
    jest.clearAllMocks();
  });

  it('throttles, then audits, then answers 401 for a refused token (with the rejection reason as cause)', async () => {
    const rejected = Object.assign(new UnauthorizedProblem('no', 'invalid_token'), { reason: 'revoked' });
    authenticate.mockRejectedValueOnce(rejected);
    await expect(guard.canActivate(bearerRoute({ authorization: 'Bearer x' }))).rejects.toBe(rejected);
    expect(calls).toEqual(['throttle:authentication', 'audit:authentication']);
    expect(audit.record.mock.calls[0][1]).toEqual({
      kind: 'authentication',
      reason: 'invalid_token',
      cause: 'revoked',
    });
  });

  it('answers the throttle’s 429 instead, without auditing the refusal', async () => {
    throttle.throttle.mockRejectedValueOnce(new TooManyRequestsProblem('slow down', {}));
    await expect(guard.canActivate(bearerRoute({}))).rejects.toBeInstanceOf(TooManyRequestsProblem);
    expect(audit.record).not.toHaveBeenCalled();
    expect(authenticate).not.toHaveBeenCalled(); // nothing to verify without a Bearer credential
  });

  it('neither counts nor records a failure that is not the client’s (503: revocation state unreadable)', async () => {
    authenticate.mockRejectedValueOnce(new ServiceUnavailableProblem('redis down'));
    await expect(guard.canActivate(bearerRoute({ authorization: 'Bearer x' }))).rejects.toBeInstanceOf(
      ServiceUnavailableProblem,
    );
    expect(calls).toEqual([]);
  });

  it('hands an insufficient scope to both ports as an authorization refusal, then answers 403', async () => {
    authenticate.mockResolvedValueOnce(PRINCIPAL);
    await expect(
      guard.canActivate(bearerRoute({ authorization: 'Bearer x' }, ['agents:read', 'agents:write'])),
    ).rejects.toMatchObject({ status: 403, code: 'insufficient_scope' });
    expect(calls).toEqual(['throttle:authorization', 'audit:authorization']);
    expect(audit.record.mock.calls[0][1]).toEqual({
      kind: 'authorization',
      principal: PRINCIPAL,
      requiredScopes: ['agents:read', 'agents:write'],
      missingScopes: ['agents:write'],
    });
  });

  it('lets a valid token with the scopes through without touching either port', async () => {
    authenticate.mockResolvedValueOnce(PRINCIPAL);
    await expect(
      guard.canActivate(bearerRoute({ authorization: 'Bearer x' }, ['agents:read'])),
    ).resolves.toBe(true);
    expect(calls).toEqual([]);
  });
});

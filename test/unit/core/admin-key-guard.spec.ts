import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '../../../libs/core/src/auth-metadata/auth.guard';
import { ADMIN_ONLY } from '../../../libs/core/src/auth-metadata/auth.decorator';
import type { AppConfig } from '../../../libs/core/src/config/app-config';
import { constantTimeEqual } from '../../../libs/core/src/crypto/constant-time';
import { UnauthorizedProblem } from '../../../libs/core/src/errors/problems';
import { routeContext } from './route-context';

jest.mock('../../../libs/core/src/crypto/constant-time', () => {
  const actual = jest.requireActual<typeof import('../../../libs/core/src/crypto/constant-time')>(
    '../../../libs/core/src/crypto/constant-time',
  );
  return { constantTimeEqual: jest.fn(actual.constantTimeEqual) };
});

const ADMIN_KEY = 'the-configured-admin-key-0123456789';

function adminRoute(headers: Record<string, string>): ExecutionContext {
  return routeContext(ADMIN_ONLY, true, headers);
}

describe('AuthGuard on @AdminOnly routes', () => {
  const bearer = { authenticate: jest.fn() };
  const guard = new AuthGuard(new Reflector(), { adminApiKey: ADMIN_KEY } as AppConfig, bearer);
  const compare = constantTimeEqual as jest.MockedFunction<typeof constantTimeEqual>;
  beforeEach(() => compare.mockClear());

  it('opens with the configured key, compared in constant time', async () => {
    await expect(guard.canActivate(adminRoute({ 'x-admin-key': ADMIN_KEY }))).resolves.toBe(true);
    expect(compare).toHaveBeenCalledWith(ADMIN_KEY, ADMIN_KEY);
  });

  it('refuses a wrong key with 401 (compared in constant time too)', async () => {
    await expect(guard.canActivate(adminRoute({ 'x-admin-key': `${ADMIN_KEY}x` }))).rejects.toBeInstanceOf(
      UnauthorizedProblem,
    );
    expect(compare).toHaveBeenCalledTimes(1);
  });

  it('refuses a Bearer token alone and never asks the Bearer authenticator', async () => {
    await expect(
      guard.canActivate(adminRoute({ authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln' })),
    ).rejects.toBeInstanceOf(UnauthorizedProblem);
    expect(bearer.authenticate).not.toHaveBeenCalled();
  });
});

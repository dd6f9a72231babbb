import { isRegisteredIn, RESERVED_SCOPE_NAMESPACES } from '@agentauth/scope-registry';
import { BUILT_IN_SCOPES } from '@agentauth/scopes';

describe('isRegisteredIn', () => {
  const known = {
    global: new Set<string>(BUILT_IN_SCOPES),
    tree: new Set(['files:read', 'files:read:own', 'reports:*', 'crm.contacts:write']),
  };

  it.each([
    ['a built-in', 'agents:read', true],
    ['a custom scope of the tree', 'files:read', true],
    ['a registered wildcard', 'reports:*', true],
    ['a wildcard covering a custom scope', 'files:*', true],
    ['a wildcard covering a deeper custom scope', 'files:read:*', true],
    ['a wildcard covering a built-in', 'agents:*', true],
    ['a wildcard covering a registered wildcard', 'crm.contacts:*', true],
    ['a wildcard covering nothing', 'billing:*', false],
    ['a wildcard below every registered name', 'files:read:own:*', false],
    ['a concrete name under a registered wildcard', 'reports:daily', false],
    ['an unregistered name', 'files:write', false],
    ['a prefix of a registered name', 'files', false],
    ['a name of another tree', 'secret:read', false],
  ])('%s (%s) → %s', (_what, scope, expected) => {
    expect(isRegisteredIn(scope, known)).toBe(expected);
  });

  it('reserves the namespaces of the built-in scopes', () => {
    expect([...RESERVED_SCOPE_NAMESPACES].sort()).toEqual([
      'agents',
      'credentials',
      'delegations',
      'policies',
      'resource-servers',
      'scopes',
      'tokens',
      'webhooks',
    ]);
  });
});

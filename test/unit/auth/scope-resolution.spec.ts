import {
  InvalidScopeError,
  InvalidTargetError,
  type IssuancePolicy,
  namedAudience,
  ScopeResolver,
} from '@agentauth/auth';
import type { EvaluationAgent } from '@agentauth/policies';
import { isRegisteredIn, type ScopeRegistry } from '@agentauth/scope-registry';
import { coveredBy } from '@agentauth/scopes';

const agent = (allowed: string[], id = 'a'): EvaluationAgent => ({
  id,
  trust_level: 'delegated',
  allowed_scopes: allowed,
  active: true,
  ancestor_ids: [id],
});

/** The registry's answer over a fixed vocabulary (the real rule, `isRegisteredIn`; no cache, no database). */
function registryOf(names: string[]): ScopeRegistry {
  const known = { global: new Set(names), tree: new Set<string>() };
  const registry: Pick<ScopeRegistry, 'unregistered' | 'expand'> = {
    unregistered: async (_root, scopes) => scopes.filter((s) => !isRegisteredIn(s, known)),
    // The registry's rule over the same vocabulary: a wildcard stands for the concrete names it covers.
    expand: async (_root, scopes) =>
      [
        ...new Set(
          scopes.flatMap((s) =>
            s.endsWith(':*') ? names.filter((n) => !n.endsWith('*') && n.startsWith(s.slice(0, -1))) : [s],
          ),
        ),
      ].sort(),
  };
  return registry as ScopeRegistry;
}

const REGISTERED = ['agents:read', 'agents:write', 'files:read', 'files:write', 'files:delete', 'other:read'];

/**
 * A stand-in for the policy step with no stored policy: what `allowed_scopes` cover is allowed, the rest is
 * `default_deny` (the evaluator's step 3; the real step is tested in test/unit/policies).
 */
const allowedScopesOnly: IssuancePolicy = {
  filterScopes: async (request) => ({
    allowed: request.scopes.filter((s) => coveredBy(s, request.agent.allowed_scopes)),
    denied: request.scopes
      .filter((s) => !coveredBy(s, request.agent.allowed_scopes))
      .map((scope) => ({ scope, reason: 'default_deny' })),
  }),
};

function resolver(policy: IssuancePolicy = allowedScopesOnly, registered = REGISTERED): ScopeResolver {
  return new ScopeResolver(policy, registryOf(registered));
}

const base = { rootAgentId: 'root', resource: null, time: new Date(0), delegationDepth: 0 };

describe('scope resolution (the one scope step of every grant)', () => {
  it('defaults to the intersection of the ceilings, minus what the policy denies', async () => {
    const denyWrite: IssuancePolicy = {
      filterScopes: async ({ scopes }) => ({
        allowed: scopes.filter((s) => !s.endsWith(':write')),
        denied: scopes
          .filter((s) => s.endsWith(':write'))
          .map((scope) => ({ scope, reason: 'explicit_deny' })),
      }),
    };
    const out = await resolver(denyWrite).resolve({
      ...base,
      requested: undefined,
      ceilings: [
        ['files:*', 'agents:read', 'agents:write'],
        ['files:read', 'files:write', 'agents:read'],
      ],
      agents: [agent(['files:*', 'agents:read', 'agents:write'])],
    });
    expect(out).toEqual({
      scopes: ['agents:read', 'files:read'],
      dropped: [{ scope: 'files:write', reason: 'explicit_deny' }],
    });
  });

  it('refuses requested scopes beyond any ceiling, invalid names, and policy denials', async () => {
    const r = resolver();
    const ceilings = [['files:*'], ['files:read', 'files:write']];
    const agents = [agent(['files:*'])];
    await expect(r.resolve({ ...base, requested: ['files:read'], ceilings, agents })).resolves.toEqual({
      scopes: ['files:read'],
      dropped: [],
    });
    for (const requested of [['files:delete'], ['files:*'], ['Files:Read'], ['offline_access']]) {
      await expect(r.resolve({ ...base, requested, ceilings, agents })).rejects.toBeInstanceOf(
        InvalidScopeError,
      );
    }
    // the policy is asked for every agent (an exchange evaluates the actor too)
    await expect(
      r.resolve({
        ...base,
        requested: ['files:read'],
        ceilings,
        agents: [...agents, agent(['other:read'], 'b')],
      }),
    ).rejects.toThrow('denied by policy');
  });

  it('refuses a requested scope that is not registered, even within every ceiling', async () => {
    const ceilings = [['reports:*']];
    const agents = [agent(['reports:*'])];
    const r = resolver(undefined, ['reports:daily']);
    await expect(r.resolve({ ...base, requested: ['reports:weekly'], ceilings, agents })).rejects.toThrow(
      new InvalidScopeError('Not registered scope(s): reports:weekly'),
    );
    // a registered name, and a wildcard standing for registered names, pass
    for (const requested of [['reports:daily'], ['reports:*']]) {
      await expect(r.resolve({ ...base, requested, ceilings, agents })).resolves.toEqual({
        scopes: requested,
        dropped: [],
      });
    }
  });

  it('issues concrete names only for a resource server: wildcards expanded within every ceiling, empty refused', async () => {
    const r = resolver();
    const agents = [agent(['files:*', 'other:read'])];
    // The agent holds files:*, the server accepts files:*: the token names the registered files scopes.
    await expect(
      r.resolve({
        ...base,
        requested: undefined,
        ceilings: [['files:*', 'other:read'], ['files:*']],
        agents,
        concrete: true,
      }),
    ).resolves.toEqual({ scopes: ['files:delete', 'files:read', 'files:write'], dropped: [] });
    // An explicit wildcard is expanded too, and kept within the server's narrower ceiling.
    await expect(
      r.resolve({
        ...base,
        requested: ['files:*'],
        ceilings: [['files:*'], ['files:*']],
        agents,
        concrete: true,
      }),
    ).resolves.toEqual({ scopes: ['files:delete', 'files:read', 'files:write'], dropped: [] });
    // Nothing in common with the server: invalid_scope rather than an empty token.
    await expect(
      r.resolve({
        ...base,
        requested: undefined,
        ceilings: [['other:read'], ['files:*']],
        agents,
        concrete: true,
      }),
    ).rejects.toBeInstanceOf(InvalidScopeError);
    // Without `concrete` (the management API) the wildcard stays and an empty set is a token without scope.
    await expect(
      r.resolve({ ...base, requested: undefined, ceilings: [['files:*'], ['files:*']], agents }),
    ).resolves.toEqual({ scopes: ['files:*'], dropped: [] });
  });
});

describe('named audience (RFC 8707 / RFC 8693)', () => {
  it('takes resource or audience, else none', () => {
    expect(namedAudience({})).toBeUndefined();
    expect(namedAudience({ resource: 'https://api.example/v1' })).toBe('https://api.example/v1');
    expect(namedAudience({ audience: 'billing' })).toBe('billing');
    expect(namedAudience({ audience: 'urn:a', resource: 'urn:a' })).toBe('urn:a');
  });

  it.each([
    [{ resource: 'relative/path' }],
    [{ resource: 'https://a.example/#f' }],
    [{ resource: '' }],
    [{ audience: '' }],
    [{ audience: 'has space' }],
    [{ audience: 'a', resource: 'urn:b' }],
    [{ audience: 'x'.repeat(513) }],
  ])('refuses %j with invalid_target', (params) => {
    expect(() => namedAudience(params as Record<string, string>)).toThrow(InvalidTargetError);
  });
});

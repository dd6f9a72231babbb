import fc from 'fast-check';
import { Problem } from '@agentauth/core';
import {
  actorsOf,
  buildActClaim,
  type ChainAgentState,
  chainAgentIds,
  effectiveScopesOf,
  type HopFacts,
  isWellFormedChain,
  judgeChain,
  MIN_DELEGATION_LIFETIME_MS,
  type NewHopContext,
  resolveNewHop,
} from '../../../libs/delegations/src/delegation-rules';
import { isSubset } from '@agentauth/scopes';

const now = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(now.getTime() + ms);
const HOUR = 3600_000;

function hop(i: number, overrides: Partial<HopFacts> = {}): HopFacts {
  return {
    id: `d${i}`,
    delegatorAgentId: `a${i - 1}`,
    delegateAgentId: `a${i}`,
    parentDelegationId: i === 1 ? null : `d${i - 1}`,
    scopes: ['files:read', 'files:write'],
    depth: i,
    maxDepth: null,
    status: 'active',
    expiresAt: at(HOUR),
    ...overrides,
  };
}

const active = (scopes: string[] = ['files:*'], expires: Date | null = null): ChainAgentState => ({
  active: true,
  allowedScopes: scopes,
  effectiveExpiresAt: expires,
});

function agents(n: number, overrides: Record<string, ChainAgentState | undefined> = {}) {
  const map = new Map<string, ChainAgentState | undefined>();
  for (let i = 0; i <= n; i++) map.set(`a${i}`, active());
  for (const [id, state] of Object.entries(overrides)) map.set(id, state);
  return map;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof Problem) return `${error.status} ${error.code}`;
    throw error;
  }
  return undefined;
}

describe('chain rules', () => {
  const chain = [
    hop(1),
    hop(2, { scopes: ['files:read'] }),
    hop(3, { scopes: ['files:read'], expiresAt: at(HOUR / 2) }),
  ];

  it('lists the original delegator then every delegate', () => {
    expect(chainAgentIds(chain)).toEqual(['a0', 'a1', 'a2', 'a3']);
  });

  it('recognizes a well-formed chain and refuses gaps, wrong parents and wrong delegators', () => {
    expect(isWellFormedChain(chain)).toBe(true);
    expect(isWellFormedChain([])).toBe(false);
    expect(isWellFormedChain([hop(2)])).toBe(false);
    expect(isWellFormedChain([hop(1), hop(3)])).toBe(false);
    expect(isWellFormedChain([hop(1), hop(2, { parentDelegationId: 'dx' })])).toBe(false);
    expect(isWellFormedChain([hop(1), hop(2, { delegatorAgentId: 'ax' })])).toBe(false);
  });

  it('judges a valid chain: effective scopes and the earliest expiry', () => {
    expect(judgeChain(chain, agents(3), now)).toEqual({
      valid: true,
      effectiveScopes: ['files:read'],
      expiresAt: at(HOUR / 2),
    });
    // An agent expiring before every hop bounds the chain.
    const early = judgeChain(chain, agents(3, { a2: active(['files:*'], at(1000)) }), now);
    expect(early.expiresAt).toEqual(at(1000));
  });

  it('intersects with what the original delegator may do now (wildcards narrowed both ways)', () => {
    expect(effectiveScopesOf([hop(1, { scopes: ['files:*'] })], ['files:read', 'mail:send'])).toEqual([
      'files:read',
    ]);
    expect(effectiveScopesOf([hop(1, { scopes: ['files:read'] })], ['files:*'])).toEqual(['files:read']);
    expect(judgeChain(chain, agents(3, { a0: active(['files:write']) }), now).effectiveScopes).toEqual([]);
  });

  it.each([
    [
      'a revoked hop anywhere',
      [hop(1), hop(2, { status: 'revoked' }), hop(3)],
      agents(3),
      'delegation_revoked',
    ],
    [
      'an expired hop (at the instant)',
      [hop(1, { expiresAt: now }), hop(2), hop(3)],
      agents(3),
      'delegation_expired',
    ],
    [
      'an inactive original delegator',
      chain,
      agents(3, { a0: { ...active(), active: false } }),
      'agent_inactive',
    ],
    [
      'an inactive delegate in the middle',
      chain,
      agents(3, { a1: { ...active(), active: false } }),
      'agent_inactive',
    ],
    ['an unknown agent', chain, agents(3, { a3: undefined }), 'agent_inactive'],
    ['a broken chain', [hop(1), hop(3)], agents(3), 'broken_chain'],
    [
      'revoked before expired',
      [hop(1, { expiresAt: now }), hop(2, { status: 'revoked' })],
      agents(2),
      'delegation_revoked',
    ],
  ])('is invalid with %s', (_name, hops, states, reason) => {
    const verdict = judgeChain(hops, states, now);
    expect({ valid: verdict.valid, reason: verdict.reason }).toEqual({ valid: false, reason });
  });

  it('is still valid 1 ms before expiry', () => {
    expect(judgeChain([hop(1, { expiresAt: at(1) })], agents(1), now).valid).toBe(true);
  });
});

describe('the act claim (RFC 8693 §4.1)', () => {
  it('nests the delegates with the current actor outermost', () => {
    expect(buildActClaim(['orchestrator', 'worker', 'ephemeral'])).toEqual({
      sub: 'ephemeral',
      act: { sub: 'worker', act: { sub: 'orchestrator' } },
    });
    expect(buildActClaim(['one'])).toEqual({ sub: 'one' });
    expect(() => buildActClaim([])).toThrow();
  });

  it('round-trips through actorsOf (outermost first)', () => {
    fc.assert(
      fc.property(fc.array(fc.uuid(), { minLength: 1, maxLength: 10 }), (delegates) => {
        expect(actorsOf(buildActClaim(delegates))).toEqual([...delegates].reverse());
      }),
    );
  });
});

describe('resolveNewHop', () => {
  const context = (overrides: Partial<NewHopContext> = {}): NewHopContext => ({
    now,
    maxLifetimeMs: 24 * HOUR,
    tokenScopes: ['files:*', 'mail:send'],
    grantable: ['files:read', 'files:write', 'mail:send'],
    grantableLabel: 'the parent',
    expiryCeiling: at(2 * HOUR),
    parent: { depth: 1, maxDepth: 3 },
    ...overrides,
  });
  const request = { scopes: ['files:read'], expiresAt: at(HOUR) };

  it('resolves depth, inherited max_depth, normalized scopes', () => {
    expect(resolveNewHop({ ...request, scopes: ['files:read', 'files:read'] }, context())).toEqual({
      scopes: ['files:read'],
      expiresAt: at(HOUR),
      depth: 2,
      maxDepth: 3,
    });
    expect(resolveNewHop(request, context({ parent: null })).maxDepth).toBeNull();
    expect(resolveNewHop({ ...request, maxDepth: 2 }, context()).maxDepth).toBe(2);
    expect(resolveNewHop({ ...request, maxDepth: 1 }, context({ parent: null }))).toMatchObject({
      depth: 1,
      maxDepth: 1,
    });
  });

  it.each([
    ['scopes beyond the grantable set', { scopes: ['files:delete'] }, {}, '403 scope_escalation'],
    ['a wildcard covering more than granted', { scopes: ['files:*'] }, {}, '403 scope_escalation'],
    [
      'scopes beyond the calling token',
      { scopes: ['mail:send'] },
      { tokenScopes: ['files:*'] },
      '403 scope_escalation',
    ],
    ['an expiry after the ceiling', { expiresAt: at(2 * HOUR + 1) }, {}, '403 lifetime_escalation'],
    [
      'depth beyond the parent max_depth',
      {},
      { parent: { depth: 3, maxDepth: 3 } },
      '403 max_depth_exceeded',
    ],
    [
      'depth beyond the global limit',
      {},
      { parent: { depth: 10, maxDepth: null } },
      '403 max_depth_exceeded',
    ],
    ['max_depth above the parent', { maxDepth: 4 }, {}, '403 depth_escalation'],
    ['max_depth below the own depth', { maxDepth: 1 }, {}, '400 validation_error'],
    ['an expiry in the past', { expiresAt: at(-1) }, {}, '400 validation_error'],
    [
      'an expiry less than a second away',
      { expiresAt: at(MIN_DELEGATION_LIFETIME_MS - 1) },
      {},
      '400 validation_error',
    ],
    [
      'an expiry beyond the configured lifetime',
      { expiresAt: at(24 * HOUR + 1) },
      { expiryCeiling: null },
      '400 validation_error',
    ],
  ])('refuses %s', (_name, req, ctx, expected) => {
    expect(code(() => resolveNewHop({ ...request, ...req }, context(ctx as Partial<NewHopContext>)))).toBe(
      expected,
    );
  });

  it('accepts the boundaries: equal expiry, exactly one second, equal max_depth', () => {
    expect(code(() => resolveNewHop({ ...request, expiresAt: at(2 * HOUR) }, context()))).toBeUndefined();
    expect(
      code(() => resolveNewHop({ ...request, expiresAt: at(MIN_DELEGATION_LIFETIME_MS) }, context())),
    ).toBeUndefined();
    expect(code(() => resolveNewHop({ ...request, maxDepth: 3 }, context()))).toBeUndefined();
  });

  it('never hands out more than the grantable set and the token, whatever is asked (property)', () => {
    const scope = fc.constantFrom('files:read', 'files:write', 'files:*', 'mail:send', 'mail:*', 'admin:all');
    fc.assert(
      fc.property(
        fc.array(scope, { minLength: 1, maxLength: 4 }),
        fc.array(scope, { maxLength: 4 }),
        fc.array(scope, { maxLength: 4 }),
        (requested, grantable, tokenScopes) => {
          let resolved;
          try {
            resolved = resolveNewHop({ ...request, scopes: requested }, context({ grantable, tokenScopes }));
          } catch (error) {
            expect((error as Problem).code).toBe('scope_escalation');
            expect(isSubset(requested, grantable) && isSubset(requested, tokenScopes)).toBe(false);
            return;
          }
          expect(isSubset(resolved.scopes, grantable)).toBe(true);
          expect(isSubset(resolved.scopes, tokenScopes)).toBe(true);
          expect(isSubset(requested, resolved.scopes) && isSubset(resolved.scopes, requested)).toBe(true);
        },
      ),
    );
  });
});

import fc from 'fast-check';
import { ForbiddenProblem, ScopeEscalationProblem, ValidationProblem } from '@agentauth/core';
import { intersect, isSubset } from '@agentauth/scopes';
import {
  type AgentFacts,
  chainActivity,
  effectiveRateLimit,
  resolveChild,
  resolveGovernedChange,
} from '../../../libs/agents/src/agent-rules';

const now = new Date('2026-06-01T12:00:00.000Z');
const limits = { now, maxEphemeralLifetimeSeconds: 3600, parentRateLimitPerMinute: 600 };
const at = (ms: number) => new Date(now.getTime() + ms);

function agent(over: Partial<AgentFacts> = {}): AgentFacts {
  return {
    id: 'a',
    status: 'active',
    trustLevel: 'delegated',
    allowedScopes: ['agents:read', 'agents:write', 'files:*'],
    expiresAt: null,
    ...over,
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

describe('chainActivity', () => {
  it('is active when every agent of the chain is active and unexpired', () => {
    expect(chainActivity([agent({ trustLevel: 'root' }), agent()], now)).toEqual({
      active: true,
      effectiveExpiresAt: null,
    });
  });

  it.each([
    [[agent(), agent({ status: 'suspended' })], 'suspended'],
    [[agent({ status: 'suspended' }), agent()], 'ancestor_suspended'],
    [[agent(), agent({ status: 'deactivated' })], 'deactivated'],
    [[agent({ status: 'deactivated' }), agent({ status: 'suspended' })], 'ancestor_deactivated'],
    [[agent(), agent({ expiresAt: now })], 'expired'],
    [[agent({ expiresAt: at(-1) }), agent()], 'ancestor_expired'],
  ] as [AgentFacts[], string][])('is inactive: %#', (chain, reason) => {
    expect(chainActivity(chain, now)).toMatchObject({ active: false, reason });
  });

  it('treats expires_at as exclusive: active 1 ms before, inactive at the instant', () => {
    expect(chainActivity([agent({ expiresAt: at(1) })], now).active).toBe(true);
    expect(chainActivity([agent({ expiresAt: now })], now).active).toBe(false);
  });

  it('reports the earliest expiry on the chain', () => {
    const chain = [agent({ expiresAt: at(5000) }), agent({ expiresAt: at(9000) }), agent()];
    expect(chainActivity(chain, now).effectiveExpiresAt).toEqual(at(5000));
  });
});

describe('resolveChild', () => {
  const parent = agent();

  it('defaults to a delegated child with no scopes and no expiry', () => {
    expect(resolveChild(parent, null, {}, ['agents:write'], limits)).toEqual({
      trustLevel: 'delegated',
      allowedScopes: [],
      expiresAt: null,
      rateLimitPerMinute: null,
    });
  });

  it("takes a rate-limit override up to the parent's effective limit, never above", () => {
    expect(resolveChild(parent, null, { rateLimitPerMinute: 600 }, [], limits).rateLimitPerMinute).toBe(600);
    expect(codeOf(() => resolveChild(parent, null, { rateLimitPerMinute: 601 }, [], limits))).toBe(
      'rate_limit_escalation',
    );
  });

  it('refuses scopes beyond the parent and beyond the calling token with scope_escalation', () => {
    expect(
      codeOf(() => resolveChild(parent, null, { allowedScopes: ['policies:read'] }, ['*:*'], limits)),
    ).toBe('scope_escalation');
    expect(
      codeOf(() => resolveChild(parent, null, { allowedScopes: ['files:read'] }, ['agents:write'], limits)),
    ).toBe('scope_escalation');
    expect(
      resolveChild(parent, null, { allowedScopes: ['files:read'] }, ['files:*'], limits).allowedScopes,
    ).toEqual(['files:read']);
  });

  it('makes children of an ephemeral agent ephemeral, expiring no later than it', () => {
    const eph = agent({ trustLevel: 'ephemeral', expiresAt: at(600_000) });
    expect(codeOf(() => resolveChild(eph, at(600_000), { trustLevel: 'delegated' }, [], limits))).toBe(
      'trust_escalation',
    );
    expect(resolveChild(eph, at(600_000), {}, [], limits).expiresAt).toEqual(at(600_000)); // inherited
    expect(() => resolveChild(parent, null, { trustLevel: 'ephemeral' }, [], limits)).toThrow(
      ValidationProblem,
    );
    expect(codeOf(() => resolveChild(eph, at(600_000), { expiresAt: at(600_001) }, [], limits))).toBe(
      'lifetime_escalation',
    );
    expect(resolveChild(eph, at(600_000), { expiresAt: at(600_000) }, [], limits)).toMatchObject({
      trustLevel: 'ephemeral',
      expiresAt: at(600_000),
    });
  });

  it('bounds an ephemeral lifetime by configuration and refuses the past', () => {
    expect(() =>
      resolveChild(parent, null, { trustLevel: 'ephemeral', expiresAt: at(3_600_001) }, [], limits),
    ).toThrow(ValidationProblem);
    expect(
      resolveChild(parent, null, { trustLevel: 'ephemeral', expiresAt: at(3_600_000) }, [], limits).expiresAt,
    ).toEqual(at(3_600_000));
    expect(() => resolveChild(parent, null, { expiresAt: now }, [], limits)).toThrow(ValidationProblem);
  });

  it("inherits an expiring parent chain's expiry when none is asked, and refuses a later one", () => {
    expect(resolveChild(parent, at(5000), {}, [], limits).expiresAt).toEqual(at(5000));
    expect(() => resolveChild(parent, at(5000), { expiresAt: at(5001) }, [], limits)).toThrow(
      ForbiddenProblem,
    );
  });

  it('never yields scopes beyond the parent or the token (property)', () => {
    const scope = fc.constantFrom('a:read', 'a:write', 'a:*', 'b:read', 'b:*', 'c:x:y', 'c:*');
    fc.assert(
      fc.property(fc.array(scope), fc.array(scope), fc.array(scope), (parentScopes, token, requested) => {
        try {
          const child = resolveChild(
            agent({ allowedScopes: parentScopes }),
            null,
            { allowedScopes: requested },
            token,
            limits,
          );
          return isSubset(child.allowedScopes, parentScopes) && isSubset(child.allowedScopes, token);
        } catch (e) {
          return e instanceof ScopeEscalationProblem;
        }
      }),
    );
  });
});

describe('resolveGovernedChange', () => {
  const parent = agent({ allowedScopes: ['agents:read', 'agents:write'] });

  it('detects narrowing (the new set does not cover the old one)', () => {
    const target = agent({ allowedScopes: ['agents:read', 'agents:write'] });
    expect(
      resolveGovernedChange(target, parent, null, { allowedScopes: ['agents:read'] }, ['agents:*'], limits),
    ).toEqual({
      allowedScopes: ['agents:read'],
      narrowsScopes: true,
    });
    expect(
      resolveGovernedChange(
        agent({ allowedScopes: [] }),
        parent,
        null,
        { allowedScopes: ['agents:read'] },
        ['agents:*'],
        limits,
      ).narrowsScopes,
    ).toBe(false);
  });

  it('refuses widening beyond the parent or the token', () => {
    expect(
      codeOf(() =>
        resolveGovernedChange(agent(), parent, null, { allowedScopes: ['files:read'] }, ['*:*'], limits),
      ),
    ).toBe('scope_escalation');
    expect(
      codeOf(() =>
        resolveGovernedChange(
          agent(),
          parent,
          null,
          { allowedScopes: ['agents:write'] },
          ['agents:read'],
          limits,
        ),
      ),
    ).toBe('scope_escalation');
  });

  it("keeps ephemeral agents expiring and everything within the parent chain's lifetime", () => {
    const eph = agent({ trustLevel: 'ephemeral', expiresAt: at(1000) });
    expect(() => resolveGovernedChange(eph, parent, null, { expiresAt: null }, [], limits)).toThrow(
      ValidationProblem,
    );
    expect(
      codeOf(() => resolveGovernedChange(agent(), parent, at(1000), { expiresAt: null }, [], limits)),
    ).toBe('lifetime_escalation');
    expect(
      codeOf(() => resolveGovernedChange(agent(), parent, at(1000), { expiresAt: at(1001) }, [], limits)),
    ).toBe('lifetime_escalation');
    expect(
      resolveGovernedChange(agent(), parent, null, { expiresAt: null }, [], limits).expiresAt,
    ).toBeNull();
  });

  it('narrowing by intersection keeps every descendant within both sets (property)', () => {
    const scope = fc.constantFrom('a:read', 'a:write', 'a:*', 'b:read', 'b:*', 'c:x:y', 'c:*');
    fc.assert(
      fc.property(fc.array(scope), fc.array(scope), (descendant, narrowed) => {
        const next = intersect(descendant, narrowed);
        return isSubset(next, descendant) && isSubset(next, narrowed);
      }),
    );
  });
});

describe('effectiveRateLimit', () => {
  const chain = (...values: (number | null)[]) =>
    values.map((rateLimitPerMinute) => ({ rateLimitPerMinute }));

  it("is the root's own value (operator-set) else the default, lowered by every override below", () => {
    expect(effectiveRateLimit(chain(null), 600)).toBe(600);
    expect(effectiveRateLimit(chain(5000), 600)).toBe(5000); // a root's value may exceed the default
    expect(effectiveRateLimit(chain(null, 50, null), 600)).toBe(50); // inherited
    expect(effectiveRateLimit(chain(null, 50, 900), 600)).toBe(50); // a child never exceeds an ancestor
    expect(effectiveRateLimit(chain(null, 9_000_000), 600)).toBe(600); // nor the default under a plain root
    expect(effectiveRateLimit(chain(5000, 900, 2), 600)).toBe(2);
  });

  it('never exceeds any value set on the chain (property)', () => {
    const value = fc.option(fc.integer({ min: 1, max: 10_000_000 }), { nil: null });
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 10_000 }),
        (values, def) => {
          const limit = effectiveRateLimit(chain(...values), def);
          const below = values.slice(1).filter((v): v is number => v !== null);
          expect(below.every((v) => limit <= v)).toBe(true);
          expect(limit).toBeLessThanOrEqual(values[0] ?? def);
        },
      ),
    );
  });
});

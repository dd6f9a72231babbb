import {
  compilePolicySet,
  evaluatePolicies,
  InvalidPolicyError,
  type EvaluationInput,
  type PolicyDefinition,
} from '@agentauth/policies';
import { A, A1, A1X, B, ROOT, aPolicy, anAgent, anInput } from './policy-fixtures';

function decide(policies: PolicyDefinition[], input: Partial<EvaluationInput> = {}) {
  return evaluatePolicies(policies, anInput(input));
}

describe('the five evaluation steps', () => {
  it('1) an inactive agent is denied before any policy is looked at', () => {
    const allow = aPolicy({ effect: 'allow' });
    const result = decide([allow], { agent: anAgent(A1, { active: false }) });
    expect(result).toEqual({ decision: 'deny', reason: 'agent_inactive', matched_policies: [] });
  });

  it('2) a matching enabled deny denies with every matching deny listed', () => {
    const deny1 = aPolicy({ effect: 'deny', actions: ['files:read'] });
    const deny2 = aPolicy({ effect: 'deny', actions: ['files:*'] });
    const otherDeny = aPolicy({ effect: 'deny', actions: ['files:write'] });
    const result = decide([deny1, deny2, otherDeny]);
    expect(result.decision).toBe('deny');
    expect(result.reason).toBe('explicit_deny');
    expect(result.matched_policies.map((p) => p.id).sort()).toEqual([deny1.id, deny2.id].sort());
    expect(result.matched_policies[0]).toEqual({
      id: expect.any(String),
      name: expect.any(String),
      effect: 'deny',
    });
  });

  it('3) an action outside allowed_scopes is denied by default, and no allow lifts the ceiling', () => {
    const allow = aPolicy({ effect: 'allow', actions: ['*'], priority: 1_000_000 });
    for (const action of ['agents:write', 'crm:read', 'files', 'agents:*']) {
      expect(decide([allow], { action })).toEqual({
        decision: 'deny',
        reason: 'default_deny',
        matched_policies: [],
      });
    }
    expect(decide([], { agent: anAgent(A1, { allowed_scopes: [] }) }).reason).toBe('default_deny');
  });

  it('3) an explicit deny outranks the ceiling in the reason', () => {
    const deny = aPolicy({ effect: 'deny', actions: ['agents:write'] });
    expect(decide([deny], { action: 'agents:write' }).reason).toBe('explicit_deny');
  });

  it('4) a matching allow inside the ceiling allows explicitly, listing the allows', () => {
    const allow = aPolicy({ effect: 'allow', actions: ['files:read'] });
    const unrelated = aPolicy({ effect: 'allow', actions: ['files:write'] });
    const result = decide([allow, unrelated]);
    expect(result).toEqual({
      decision: 'allow',
      reason: 'explicit_allow',
      matched_policies: [{ id: allow.id, name: allow.name, effect: 'allow' }],
    });
  });

  it('5) no policy at all → allow by scope grant', () => {
    expect(decide([])).toEqual({ decision: 'allow', reason: 'scope_grant', matched_policies: [] });
    expect(decide([aPolicy({ actions: ['crm:*'] })])).toEqual({
      decision: 'allow',
      reason: 'scope_grant',
      matched_policies: [],
    });
  });

  it('covers the action with wildcard allowed_scopes', () => {
    expect(decide([], { action: 'files:read:own' }).reason).toBe('scope_grant');
    expect(decide([], { action: 'files:*' }).reason).toBe('scope_grant');
    expect(
      decide([], { agent: anAgent(A1, { allowed_scopes: ['files:read'] }), action: 'files:*' }).reason,
    ).toBe('default_deny');
  });
});

describe('deny-override', () => {
  it.each([
    [0, 0],
    [100, -100],
    [-100, 100],
    [2_147_483_647, -2_147_483_648],
  ])('allow (priority %d) + deny (priority %d) on the same action → deny', (allowPriority, denyPriority) => {
    const allow = aPolicy({ effect: 'allow', actions: ['files:read'], priority: allowPriority });
    const deny = aPolicy({ effect: 'deny', actions: ['files:read'], priority: denyPriority });
    for (const order of [
      [allow, deny],
      [deny, allow],
    ]) {
      const result = decide(order);
      expect(result.decision).toBe('deny');
      expect(result.reason).toBe('explicit_deny');
      expect(result.matched_policies).toEqual([{ id: deny.id, name: deny.name, effect: 'deny' }]);
    }
  });

  it('orders matched policies by priority (higher first), then id', () => {
    const low = aPolicy({ effect: 'deny', priority: -5 });
    const high = aPolicy({ effect: 'deny', priority: 50 });
    const midB = aPolicy({ effect: 'deny', priority: 10, id: '20000000-0000-4000-8000-00000000000b' });
    const midA = aPolicy({ effect: 'deny', priority: 10, id: '20000000-0000-4000-8000-00000000000a' });
    const result = decide([low, midB, high, midA]);
    expect(result.matched_policies.map((p) => p.id)).toEqual([high.id, midA.id, midB.id, low.id]);
  });

  it('ignores disabled policies, deny or allow', () => {
    const deny = aPolicy({ effect: 'deny', enabled: false });
    const allow = aPolicy({ effect: 'allow', enabled: false });
    expect(decide([deny, allow]).reason).toBe('scope_grant');
    expect(compilePolicySet([deny, allow]).size).toBe(0);
  });

  it('lists a policy once even when several of its subjects match', () => {
    const deny = aPolicy({ effect: 'deny', subjects: [A1, `agent:${A}/*`, 'trust_level:delegated', '*'] });
    expect(decide([deny]).matched_policies).toHaveLength(1);
  });

  it('keeps decisions independent across calls on one compiled set', () => {
    const set = compilePolicySet([
      aPolicy({ effect: 'deny', subjects: [B] }),
      aPolicy({ effect: 'allow', subjects: [A1], actions: ['files:read'] }),
    ]);
    for (let i = 0; i < 3; i++) {
      expect(set.evaluate(anInput({ agent: anAgent(B) })).reason).toBe('explicit_deny');
      expect(set.evaluate(anInput({ agent: anAgent(A1) })).reason).toBe('explicit_allow');
      expect(set.evaluate(anInput({ agent: anAgent(A) })).reason).toBe('scope_grant');
    }
  });
});

describe('subjects', () => {
  const denyFor = (subjects: string[], extra: Partial<PolicyDefinition> = {}) =>
    aPolicy({ effect: 'deny', subjects, ...extra });
  const deniedAgents = (policy: PolicyDefinition) => {
    const set = compilePolicySet([policy]);
    return [ROOT, A, A1, A1X, B].filter(
      (id) => set.evaluate(anInput({ agent: anAgent(id) })).decision === 'deny',
    );
  };

  it('an agent id names that agent only', () => {
    expect(deniedAgents(denyFor([A1]))).toEqual([A1]);
  });

  it('an agent id matches whatever its case', () => {
    expect(deniedAgents(denyFor([A1.toUpperCase()]))).toEqual([A1]);
  });

  it('agent:<id>/* names the agent and its whole subtree', () => {
    expect(deniedAgents(denyFor([`agent:${A}/*`]))).toEqual([A, A1, A1X]);
    expect(deniedAgents(denyFor([`agent:${A1X}/*`]))).toEqual([A1X]);
    expect(deniedAgents(denyFor([`agent:${ROOT}/*`]))).toEqual([ROOT, A, A1, A1X, B]);
  });

  it('trust_level:<level> names agents of that level', () => {
    const set = compilePolicySet([denyFor(['trust_level:ephemeral'])]);
    expect(set.evaluate(anInput({ agent: anAgent(A1, { trust_level: 'ephemeral' }) })).decision).toBe('deny');
    expect(set.evaluate(anInput({ agent: anAgent(A1, { trust_level: 'delegated' }) })).decision).toBe(
      'allow',
    );
    expect(deniedAgents(denyFor(['trust_level:root']))).toEqual([ROOT]);
    expect(deniedAgents(denyFor(['trust_level:delegated']))).toEqual([A, A1, A1X, B]);
  });

  it('* names every agent of the tree when the policy has no owner or the root owns it', () => {
    expect(deniedAgents(denyFor(['*']))).toEqual([ROOT, A, A1, A1X, B]);
    expect(deniedAgents(denyFor(['*'], { owner_agent_id: ROOT }))).toEqual([ROOT, A, A1, A1X, B]);
    const set = compilePolicySet([denyFor(['*'], { owner_agent_id: ROOT })], { rootAgentId: ROOT });
    expect(set.evaluate(anInput({ agent: anAgent(B) })).decision).toBe('deny');
  });

  it('* means the owner’s subtree, never beyond it', () => {
    expect(deniedAgents(denyFor(['*'], { owner_agent_id: A }))).toEqual([A, A1, A1X]);
  });

  it('every subject kind is confined to the owner’s subtree', () => {
    expect(deniedAgents(denyFor(['trust_level:delegated'], { owner_agent_id: A }))).toEqual([A, A1, A1X]);
    expect(deniedAgents(denyFor([B, A1], { owner_agent_id: A }))).toEqual([A1]);
    expect(deniedAgents(denyFor([`agent:${ROOT}/*`], { owner_agent_id: A1 }))).toEqual([A1, A1X]);
  });

  it('applies subtree subjects even when ancestor_ids omits the agent itself', () => {
    const set = compilePolicySet([denyFor([`agent:${A1}/*`])]);
    expect(set.evaluate(anInput({ agent: anAgent(A1, { ancestor_ids: [ROOT, A] }) })).decision).toBe('deny');
  });

  it('refuses to evaluate an agent of another tree when the set knows its root', () => {
    const set = compilePolicySet([], { rootAgentId: ROOT });
    const stranger = anAgent('30000000-0000-4000-8000-000000000001', {
      ancestor_ids: ['30000000-0000-4000-8000-000000000000', '30000000-0000-4000-8000-000000000001'],
    });
    expect(() => set.evaluate(anInput({ agent: stranger }))).toThrow(/outside the compiled tree/);
    expect(set.evaluate(anInput({ agent: anAgent(A1) })).reason).toBe('scope_grant');
  });
});

describe('action and resource globs', () => {
  const denied = (policy: Partial<PolicyDefinition>, action: string, resource?: string) =>
    decide([aPolicy({ effect: 'deny', ...policy })], {
      action,
      resource,
      agent: anAgent(A1, { allowed_scopes: ['files:*', 'crm.contacts:*'] }),
    }).reason === 'explicit_deny';

  it('* matches any run of characters, colons included', () => {
    expect(denied({ actions: ['files:*'] }, 'files:read')).toBe(true);
    expect(denied({ actions: ['files:*'] }, 'files:read:own')).toBe(true);
    expect(denied({ actions: ['*:read'] }, 'files:read')).toBe(true);
    expect(denied({ actions: ['*:read'] }, 'files:read:own')).toBe(false);
    expect(denied({ actions: ['files*'] }, 'files:read')).toBe(true);
    expect(denied({ actions: ['f*s:*d'] }, 'files:read')).toBe(true);
    expect(denied({ actions: ['f*s:*d'] }, 'files:write')).toBe(false);
    expect(denied({ actions: ['files:read'] }, 'files:readx')).toBe(false);
    expect(denied({ actions: ['files:read'] }, 'xfiles:read')).toBe(false);
  });

  it('treats regex metacharacters literally', () => {
    expect(denied({ actions: ['crm.contacts:write'] }, 'crm.contacts:write')).toBe(true);
    expect(denied({ actions: ['crm.contacts:write'] }, 'crmXcontacts:write')).toBe(false);
    expect(denied({ actions: ['crm.*'] }, 'crm.contacts:write')).toBe(true);
    expect(denied({ actions: ['crm.*'] }, 'crmXcontacts:write')).toBe(false);
    const resources = ['https://api.example.com/v1/(a|b)+[x]?^$\\{2}'];
    expect(denied({ resources }, 'files:read', 'https://api.example.com/v1/(a|b)+[x]?^$\\{2}')).toBe(true);
    expect(denied({ resources }, 'files:read', 'https://apiXexample.com/v1/(a|b)+[x]?^$\\{2}')).toBe(false);
    expect(denied({ resources }, 'files:read', 'https://api.example.com/v1/aab')).toBe(false);
  });

  it('matches resources; the default resource is *', () => {
    const onApi = { resources: ['https://api.example.com/*'] };
    expect(denied(onApi, 'files:read', 'https://api.example.com/files')).toBe(true);
    expect(denied(onApi, 'files:read', 'https://other.example.com/files')).toBe(false);
    expect(denied({ resources: ['*'] }, 'files:read', 'anything')).toBe(true);
    expect(denied({ resources: ['*'] }, 'files:read')).toBe(true);
  });

  it('any one of several globs is enough', () => {
    expect(denied({ actions: ['crm:*', 'files:read'] }, 'files:read')).toBe(true);
    expect(denied({ actions: ['crm:*', 'files:write'] }, 'files:read')).toBe(false);
  });

  it('an open action (files:*) meets every deny that could match a scope below it (fail-closed)', () => {
    expect(denied({ actions: ['files:delete'] }, 'files:*')).toBe(true);
    expect(denied({ actions: ['files:*:own'] }, 'files:*')).toBe(true);
    expect(denied({ actions: ['*:delete'] }, 'files:*')).toBe(true);
    expect(denied({ actions: ['f*'] }, 'files:*')).toBe(true);
    expect(denied({ actions: ['files'] }, 'files:*')).toBe(false);
    expect(denied({ actions: ['files:'] }, 'files:*')).toBe(false);
    expect(denied({ actions: ['crm:*'] }, 'files:*')).toBe(false);
    expect(denied({ actions: ['filesystem:read'] }, 'files:*')).toBe(false);
  });

  it('an open resource (*) meets every deny whatever its resources (no audience = any audience)', () => {
    expect(denied({ resources: ['https://billing.example.com'] }, 'files:read', '*')).toBe(true);
    expect(denied({ resources: ['https://billing.example.com'] }, 'files:read')).toBe(true);
    expect(
      denied({ resources: ['https://billing.example.com/*'] }, 'files:read', 'https://billing.example.com/*'),
    ).toBe(true);
    expect(
      denied({ resources: ['https://billing.example.com'] }, 'files:read', 'https://crm.example.com/*'),
    ).toBe(false);
  });

  it('an allow meets an open action or resource only when its globs cover every value it stands for', () => {
    const agent = anAgent(A1, { allowed_scopes: ['files:*'] });
    const allowReason = (policy: Partial<PolicyDefinition>, action: string, resource?: string) =>
      decide([aPolicy({ effect: 'allow', ...policy })], { agent, action, resource }).reason;
    expect(allowReason({ actions: ['files:*'] }, 'files:*')).toBe('explicit_allow');
    expect(allowReason({ actions: ['*'] }, 'files:*')).toBe('explicit_allow');
    expect(allowReason({ actions: ['files:read'] }, 'files:*')).toBe('scope_grant');
    expect(allowReason({ actions: ['files:r*'] }, 'files:*')).toBe('scope_grant');
    expect(allowReason({ resources: ['https://api.example.com'] }, 'files:read')).toBe('scope_grant');
    expect(
      allowReason({ resources: ['https://api.example.com'] }, 'files:read', 'https://api.example.com'),
    ).toBe('explicit_allow');
  });
});

describe('conditions', () => {
  const withConditions = (effect: 'allow' | 'deny', conditions: PolicyDefinition['conditions']) =>
    compilePolicySet([aPolicy({ effect, conditions })]);
  const reasonAt = (
    effect: 'allow' | 'deny',
    conditions: PolicyDefinition['conditions'],
    context: EvaluationInput['context'],
  ) => withConditions(effect, conditions).evaluate(anInput({ context })).reason;

  describe('ip_cidrs', () => {
    const cidrs = { ip_cidrs: ['10.1.2.0/24', '2001:db8:abcd::/48'] };
    it.each([
      ['10.1.2.0', true],
      ['10.1.2.255', true],
      ['10.1.2.77', true],
      ['::ffff:10.1.2.7', true],
      ['10.1.1.255', false],
      ['10.1.3.0', false],
      ['2001:db8:abcd::', true],
      ['2001:db8:abcd:ffff:ffff:ffff:ffff:ffff', true],
      ['2001:db8:abcc:ffff:ffff:ffff:ffff:ffff', false],
      ['2001:db8:abce::', false],
    ])('%s inside the ranges: %s', (ip, inside) => {
      expect(reasonAt('allow', cidrs, { ip })).toBe(inside ? 'explicit_allow' : 'scope_grant');
      expect(reasonAt('deny', cidrs, { ip })).toBe(inside ? 'explicit_deny' : 'scope_grant');
    });

    it('a bare address is a single host', () => {
      expect(reasonAt('deny', { ip_cidrs: ['192.0.2.1'] }, { ip: '192.0.2.1' })).toBe('explicit_deny');
      expect(reasonAt('deny', { ip_cidrs: ['192.0.2.1'] }, { ip: '192.0.2.2' })).toBe('scope_grant');
      expect(reasonAt('deny', { ip_cidrs: ['::1'] }, { ip: '::1' })).toBe('explicit_deny');
    });

    it.each([undefined, '', 'not-an-ip', '10.1.2.300'])(
      'an unknown IP (%p) fails an allow condition and satisfies a deny condition',
      (ip) => {
        expect(reasonAt('allow', cidrs, { ip })).toBe('scope_grant');
        expect(reasonAt('deny', cidrs, { ip })).toBe('explicit_deny');
      },
    );
  });

  describe('max_delegation_depth', () => {
    it('holds when the depth is at most the limit (boundary)', () => {
      const limit = { max_delegation_depth: 2 };
      expect(reasonAt('allow', limit, { delegation_depth: 1 })).toBe('explicit_allow');
      expect(reasonAt('allow', limit, { delegation_depth: 2 })).toBe('explicit_allow');
      expect(reasonAt('allow', limit, { delegation_depth: 3 })).toBe('scope_grant');
      expect(reasonAt('deny', limit, { delegation_depth: 2 })).toBe('explicit_deny');
      expect(reasonAt('deny', limit, { delegation_depth: 3 })).toBe('scope_grant');
    });

    it('treats a missing depth as 0', () => {
      expect(reasonAt('allow', { max_delegation_depth: 0 }, {})).toBe('explicit_allow');
      expect(reasonAt('allow', { max_delegation_depth: 0 }, undefined)).toBe('explicit_allow');
      expect(reasonAt('allow', { max_delegation_depth: 0 }, { delegation_depth: 1 })).toBe('scope_grant');
    });

    it.each([Number.NaN, -1])('treats an unusable depth (%p) as unknown: fail-closed', (delegation_depth) => {
      expect(reasonAt('allow', { max_delegation_depth: 5 }, { delegation_depth })).toBe('scope_grant');
      expect(reasonAt('deny', { max_delegation_depth: 5 }, { delegation_depth })).toBe('explicit_deny');
    });
  });

  describe('time_window', () => {
    const office = { time_window: { start: '09:00', end: '17:00', timezone: 'UTC' } };
    it('start is inclusive, end exclusive', () => {
      const at = (iso: string) => reasonAt('allow', office, { time: new Date(iso) });
      expect(at('2026-06-01T08:59:59.999Z')).toBe('scope_grant');
      expect(at('2026-06-01T09:00:00.000Z')).toBe('explicit_allow');
      expect(at('2026-06-01T16:59:59.999Z')).toBe('explicit_allow');
      expect(at('2026-06-01T17:00:00.000Z')).toBe('scope_grant');
    });

    it('an unknown time fails an allow condition and satisfies a deny condition', () => {
      for (const time of [undefined, new Date(Number.NaN)]) {
        expect(reasonAt('allow', office, { time })).toBe('scope_grant');
        expect(reasonAt('deny', office, { time })).toBe('explicit_deny');
      }
    });
  });

  describe('time_window through the evaluator', () => {
    const reasonAtIso = (effect: 'allow' | 'deny', window: object, iso: string) =>
      reasonAt(effect, { time_window: window as never }, { time: new Date(iso) });

    it('crosses midnight and filters on the day the window started', () => {
      const fridayNight = { start: '22:00', end: '06:00', timezone: 'UTC', days: ['fri'] };
      expect(reasonAtIso('deny', fridayNight, '2026-06-05T21:59:59Z')).toBe('scope_grant'); // Fri 21:59
      expect(reasonAtIso('deny', fridayNight, '2026-06-05T22:00:00Z')).toBe('explicit_deny'); // Fri 22:00
      expect(reasonAtIso('deny', fridayNight, '2026-06-06T05:59:59Z')).toBe('explicit_deny'); // Sat 05:59
      expect(reasonAtIso('deny', fridayNight, '2026-06-06T06:00:00Z')).toBe('scope_grant'); // Sat 06:00
      expect(reasonAtIso('deny', fridayNight, '2026-06-05T02:00:00Z')).toBe('scope_grant'); // Thursday's night
    });

    it('follows the zone across a DST change (Europe/Berlin spring forward 2026-03-29)', () => {
      const morning = { start: '08:00', end: '09:00', timezone: 'Europe/Berlin' };
      expect(reasonAtIso('allow', morning, '2026-03-28T07:00:00Z')).toBe('explicit_allow'); // 08:00 CET
      expect(reasonAtIso('allow', morning, '2026-03-29T06:00:00Z')).toBe('explicit_allow'); // 08:00 CEST
      expect(reasonAtIso('allow', morning, '2026-03-29T07:00:00Z')).toBe('scope_grant'); // 09:00 CEST
      const skipped = { start: '02:00', end: '03:00', timezone: 'Europe/Berlin' };
      expect(reasonAtIso('deny', skipped, '2026-03-29T00:59:59Z')).toBe('scope_grant'); // 01:59:59 CET
      expect(reasonAtIso('deny', skipped, '2026-03-29T01:00:00Z')).toBe('scope_grant'); // 03:00 CEST
      expect(reasonAtIso('deny', skipped, '2026-03-30T00:30:00Z')).toBe('explicit_deny'); // 02:30 CEST next day
    });

    it('follows the zone across a DST change (America/New_York fall back 2026-11-01)', () => {
      const repeated = { start: '01:00', end: '02:00', timezone: 'America/New_York' };
      expect(reasonAtIso('deny', repeated, '2026-11-01T05:30:00Z')).toBe('explicit_deny'); // 01:30 EDT
      expect(reasonAtIso('deny', repeated, '2026-11-01T06:30:00Z')).toBe('explicit_deny'); // 01:30 EST
      expect(reasonAtIso('deny', repeated, '2026-11-01T07:00:00Z')).toBe('scope_grant'); // 02:00 EST
    });
  });

  it('all given conditions must hold', () => {
    const conditions = {
      ip_cidrs: ['10.0.0.0/8'],
      time_window: { start: '09:00', end: '17:00', timezone: 'UTC' },
      max_delegation_depth: 1,
    };
    const inside = { ip: '10.0.0.1', time: new Date('2026-06-01T10:00:00Z'), delegation_depth: 1 };
    expect(reasonAt('allow', conditions, inside)).toBe('explicit_allow');
    expect(reasonAt('deny', conditions, inside)).toBe('explicit_deny');
    for (const miss of [
      { ip: '11.0.0.1' },
      { time: new Date('2026-06-01T18:00:00Z') },
      { delegation_depth: 2 },
    ]) {
      expect(reasonAt('allow', conditions, { ...inside, ...miss })).toBe('scope_grant');
      expect(reasonAt('deny', conditions, { ...inside, ...miss })).toBe('scope_grant');
    }
  });

  it('a deny whose conditions do not hold leaves an allow in force', () => {
    const set = compilePolicySet([
      aPolicy({ effect: 'deny', conditions: { ip_cidrs: ['10.0.0.0/8'] } }),
      aPolicy({ effect: 'allow', actions: ['files:read'] }),
    ]);
    expect(set.evaluate(anInput({ context: { ip: '192.0.2.1' } })).reason).toBe('explicit_allow');
    expect(set.evaluate(anInput({ context: { ip: '10.9.9.9' } })).reason).toBe('explicit_deny');
  });

  it('accepts null conditions as none', () => {
    expect(decide([aPolicy({ effect: 'deny', conditions: null })]).reason).toBe('explicit_deny');
    expect(decide([aPolicy({ effect: 'deny', conditions: undefined })]).reason).toBe('explicit_deny');
  });
});

describe('compiling', () => {
  it.each([
    ['bad CIDR', { conditions: { ip_cidrs: ['10.0.0.0/33'] } }],
    ['bad time', { conditions: { time_window: { start: '25:00', end: '01:00', timezone: 'UTC' } } }],
    ['bad zone', { conditions: { time_window: { start: '01:00', end: '02:00', timezone: 'Mars/Olympus' } } }],
    ['bad subject', { subjects: ['agent:nope'] }],
    ['empty actions', { actions: [] }],
    ['empty glob', { resources: [''] }],
    ['bad effect', { effect: 'maybe' as 'allow' }],
    ['unknown condition', { conditions: { ip_cidr: ['10.0.0.0/8'] } as never }],
  ])('refuses a stored policy that validation should have refused (%s)', (_label, overrides) => {
    const policy = aPolicy(overrides);
    expect(() => compilePolicySet([policy])).toThrow(InvalidPolicyError);
    try {
      compilePolicySet([policy]);
    } catch (e) {
      expect((e as InvalidPolicyError).policyId).toBe(policy.id);
    }
  });

  it('does not compile disabled policies, so a disabled broken row does not block the tree', () => {
    const broken = aPolicy({ enabled: false, conditions: { ip_cidrs: ['nope'] } });
    expect(compilePolicySet([broken]).size).toBe(0);
  });

  it('returns frozen shared results that callers cannot corrupt', () => {
    const result = decide([]);
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.matched_policies)).toBe(true);
  });
});

import fc from 'fast-check';
import {
  GlobMatcher,
  compilePolicySet,
  parsePolicySubject,
  type EvaluationInput,
  type PolicyDecision,
  type PolicyDefinition,
} from '@agentauth/policies';
import { coveredBy } from '@agentauth/scopes';
import { A, A1, A1X, B, ROOT, anAgent } from './policy-fixtures';

const TREE = [ROOT, A, A1, A1X, B];
const scopeNames = ['files:read', 'files:write', 'files:read:own', 'crm:read', 'agents:read'];
const wildcards = ['files:*', 'files:read:*', 'crm:*'];

const subject = fc.oneof(
  fc.constantFrom(...TREE),
  fc.constantFrom(...TREE).map((id) => `agent:${id}/*`),
  fc.constantFrom('trust_level:root', 'trust_level:delegated', 'trust_level:ephemeral', '*'),
);
const actionGlob = fc.constantFrom(
  '*',
  ...scopeNames,
  ...wildcards,
  '*:read',
  'files*',
  'f*:*d',
  'files:r*',
  '*d:own',
  '*:read:*',
);
const resourceGlob = fc.constantFrom('*', 'https://a.example', 'https://b.example', 'https://a.*');
const conditions = fc.record(
  {
    ip_cidrs: fc.constantFrom(['10.0.0.0/8'], ['2001:db8::/32'], ['10.0.0.0/8', '192.0.2.0/24']),
    time_window: fc.constantFrom(
      { start: '09:00', end: '17:00', timezone: 'UTC' },
      { start: '22:00', end: '06:00', timezone: 'Europe/Berlin', days: ['sat' as const, 'sun' as const] },
    ),
    max_delegation_depth: fc.integer({ min: 0, max: 3 }),
  },
  { requiredKeys: [] },
);
const policy = fc.record({
  id: fc.uuid(),
  name: fc.string({ maxLength: 5 }),
  effect: fc.constantFrom('allow' as const, 'deny' as const),
  subjects: fc.array(subject, { minLength: 1, maxLength: 3 }),
  actions: fc.array(actionGlob, { minLength: 1, maxLength: 2 }),
  resources: fc.array(resourceGlob, { minLength: 1, maxLength: 2 }),
  conditions,
  priority: fc.integer({ min: -3, max: 3 }),
  enabled: fc.boolean(),
  owner_agent_id: fc.option(fc.constantFrom(...TREE), { nil: undefined }),
});
const policies = fc.uniqueArray(policy, { maxLength: 12, selector: (p) => p.id });
const input: fc.Arbitrary<EvaluationInput> = fc.record({
  agent: fc
    .record({
      id: fc.constantFrom(...TREE),
      trust: fc.constantFrom('delegated' as const, 'ephemeral' as const),
      active: fc.boolean(),
      allowed: fc.subarray([...scopeNames, ...wildcards]),
    })
    .map(({ id, trust, active, allowed }) =>
      anAgent(id, { trust_level: id === ROOT ? 'root' : trust, active, allowed_scopes: allowed }),
    ),
  action: fc.constantFrom(...scopeNames, ...wildcards),
  resource: fc.option(fc.constantFrom('https://a.example', 'https://b.example', '*', 'https://a.*'), {
    nil: undefined,
  }),
  context: fc.record(
    {
      ip: fc.constantFrom('10.1.2.3', '192.0.2.9', '2001:db8::1', '203.0.113.5', 'garbage'),
      time: fc.date({
        min: new Date('2026-01-01T00:00:00Z'),
        max: new Date('2026-12-31T23:59:59Z'),
        noInvalidDate: true,
      }),
      delegation_depth: fc.integer({ min: 0, max: 4 }),
    },
    { requiredKeys: [] },
  ),
});

const runs = { numRuns: 1500 };

function ids(decision: PolicyDecision): string[] {
  return decision.matched_policies.map((p) => p.id);
}

/** A deny that certainly matches the input: its every condition holds (or is unknown) in the context. */
function certainDeny(i: EvaluationInput, id: string): PolicyDefinition {
  const context = i.context ?? {};
  return {
    id,
    name: 'certain',
    effect: 'deny',
    subjects: [i.agent.id],
    actions: [i.action],
    resources: ['*'],
    conditions: {
      ip_cidrs: ['0.0.0.0/0', '::/0'],
      time_window: { start: '00:00', end: '00:00', timezone: 'Asia/Tokyo' },
      max_delegation_depth: context.delegation_depth ?? 0,
    },
    priority: -1000,
    enabled: true,
  };
}

/**
 * A naive reference: scan every policy, no index. Glob semantics come from GlobMatcher (checked against an
 * escaped RegExp in glob-matcher.spec.ts); this checks the indexing, the owner confinement and the steps.
 */
function referenceEvaluate(all: PolicyDefinition[], i: EvaluationInput): PolicyDecision {
  const agent = i.agent;
  if (!agent.active) return { decision: 'deny', reason: 'agent_inactive', matched_policies: [] };
  const resource = i.resource ?? '*';
  const context = i.context ?? {};
  const path = agent.ancestor_ids;
  const matches = (p: PolicyDefinition): boolean => {
    if (!p.enabled) return false;
    const owner = p.owner_agent_id ?? null;
    if (owner && !path.includes(owner)) return false;
    const subjectHit = p.subjects.some((s) => {
      const parsed = parsePolicySubject(s)!;
      if (parsed.kind === 'agent') return parsed.agentId === agent.id;
      if (parsed.kind === 'subtree') return path.includes(parsed.agentId);
      if (parsed.kind === 'trust_level') return parsed.trustLevel === agent.trust_level;
      return true;
    });
    if (!subjectHit) return false;
    const deny = p.effect === 'deny';
    const globHit = (globs: readonly string[], value: string, open: boolean, minExtra: 0 | 1) =>
      globs.some((g) =>
        deny && open
          ? new GlobMatcher(g).matchesSomeExtension(value.slice(0, -1), minExtra)
          : new GlobMatcher(g).matches(value),
      );
    if (!globHit(p.actions, i.action, i.action.endsWith(':*'), 1)) return false;
    if (!globHit(p.resources, resource, resource.endsWith('*'), 0)) return false;
    const c = p.conditions ?? {};
    const ipKnown = context.ip !== undefined && context.ip !== 'garbage';
    const timeKnown = context.time !== undefined;
    if (c.ip_cidrs) {
      const inRange =
        ipKnown &&
        ((context.ip!.startsWith('10.') && c.ip_cidrs.includes('10.0.0.0/8')) ||
          (context.ip!.startsWith('192.0.2.') && c.ip_cidrs.includes('192.0.2.0/24')) ||
          (context.ip!.startsWith('2001:db8:') && c.ip_cidrs.includes('2001:db8::/32')));
      if (deny ? ipKnown && !inRange : !inRange) return false;
    }
    if (c.time_window) {
      const t = context.time;
      let inside = false;
      if (t) {
        if (c.time_window.timezone === 'UTC') {
          const m = t.getUTCHours() * 60 + t.getUTCMinutes();
          inside = m >= 540 && m < 1020;
        } else {
          const local = new Date(t.toLocaleString('en-US', { timeZone: 'Europe/Berlin' }));
          const m = local.getHours() * 60 + local.getMinutes();
          const startedYesterday = m < 360;
          const day = (local.getDay() + 6 - (startedYesterday ? 1 : 0)) % 7; // 0 = Monday
          inside = (m >= 1320 || m < 360) && (day === 5 || day === 6);
        }
      }
      if (deny ? timeKnown && !inside : !inside) return false;
    }
    if (c.max_delegation_depth !== undefined && (context.delegation_depth ?? 0) > c.max_delegation_depth)
      return false;
    return true;
  };
  const order = (a: PolicyDefinition, b: PolicyDefinition) =>
    b.priority - a.priority || (a.id < b.id ? -1 : 1);
  const denies = all.filter((p) => p.effect === 'deny' && matches(p)).sort(order);
  if (denies.length) return { decision: 'deny', reason: 'explicit_deny', matched_policies: denies.map(ref) };
  if (!coveredBy(i.action, agent.allowed_scopes))
    return { decision: 'deny', reason: 'default_deny', matched_policies: [] };
  const allows = all.filter((p) => p.effect === 'allow' && matches(p)).sort(order);
  if (allows.length)
    return { decision: 'allow', reason: 'explicit_allow', matched_policies: allows.map(ref) };
  return { decision: 'allow', reason: 'scope_grant', matched_policies: [] };
}

function ref(p: PolicyDefinition) {
  return { id: p.id, name: p.name, effect: p.effect };
}

describe('policy evaluation laws', () => {
  it('agrees with a naive unindexed reference evaluator', () => {
    fc.assert(
      fc.property(policies, input, (ps, i) => {
        expect(compilePolicySet(ps).evaluate(i)).toEqual(referenceEvaluate(ps, i));
      }),
      { numRuns: 3000 },
    );
  });

  it('any matching enabled deny ⇒ deny (for an active agent: explicit_deny, listing it)', () => {
    fc.assert(
      fc.property(policies, input, fc.uuid(), (ps, i, id) => {
        const result = compilePolicySet([...ps, certainDeny(i, id)]).evaluate(i);
        expect(result.decision).toBe('deny');
        if (i.agent.active) {
          expect(result.reason).toBe('explicit_deny');
          expect(ids(result)).toContain(id);
        }
      }),
      runs,
    );
  });

  it('an allow decision ⇒ the action is covered by allowed_scopes', () => {
    fc.assert(
      fc.property(policies, input, (ps, i) => {
        const result = compilePolicySet(ps).evaluate(i);
        return result.decision === 'deny' || coveredBy(i.action, i.agent.allowed_scopes);
      }),
      runs,
    );
  });

  it('with every policy disabled the decision depends only on active and allowed_scopes', () => {
    fc.assert(
      fc.property(policies, input, (ps, i) => {
        const result = compilePolicySet(ps.map((p) => ({ ...p, enabled: false }))).evaluate(i);
        const expected = !i.agent.active
          ? 'agent_inactive'
          : coveredBy(i.action, i.agent.allowed_scopes)
            ? 'scope_grant'
            : 'default_deny';
        expect(result.reason).toBe(expected);
        expect(result.matched_policies).toEqual([]);
      }),
      runs,
    );
  });

  it('allow policies never change the decision, only the reason', () => {
    fc.assert(
      fc.property(policies, input, (ps, i) => {
        const withAllows = compilePolicySet(ps).evaluate(i);
        const withoutAllows = compilePolicySet(ps.filter((p) => p.effect === 'deny')).evaluate(i);
        return withAllows.decision === withoutAllows.decision;
      }),
      runs,
    );
  });

  it('adding policies never turns a deny into an allow', () => {
    fc.assert(
      fc.property(policies, policies, input, (ps, more, i) => {
        const before = compilePolicySet(ps).evaluate(i);
        const after = compilePolicySet([
          ...ps,
          ...more.filter((m) => !ps.some((p) => p.id === m.id)),
        ]).evaluate(i);
        return before.decision === 'allow' || after.decision === 'deny';
      }),
      runs,
    );
  });

  it('priorities and policy order never change the decision or the set of matched policies', () => {
    fc.assert(
      fc.property(policies, input, fc.integer({ min: -50, max: 50 }), (ps, i, shift) => {
        const base = compilePolicySet(ps).evaluate(i);
        const reprioritized = ps.map((p, k) => ({ ...p, priority: (p.priority * shift + k) % 7 })).reverse();
        const other = compilePolicySet(reprioritized).evaluate(i);
        expect(other.decision).toBe(base.decision);
        expect(other.reason).toBe(base.reason);
        expect(ids(other).sort()).toEqual(ids(base).sort());
      }),
      runs,
    );
  });

  it('an explicit deny lists only matching denies, an explicit allow only allows, by priority', () => {
    fc.assert(
      fc.property(policies, input, (ps, i) => {
        const result = compilePolicySet(ps).evaluate(i);
        const byId = new Map(ps.map((p) => [p.id, p]));
        const matched = result.matched_policies.map((m) => byId.get(m.id)!);
        if (result.reason === 'explicit_deny')
          expect(matched.every((p) => p.effect === 'deny' && p.enabled)).toBe(true);
        if (result.reason === 'explicit_allow')
          expect(matched.every((p) => p.effect === 'allow' && p.enabled)).toBe(true);
        for (let k = 1; k < matched.length; k++)
          expect(matched[k - 1].priority).toBeGreaterThanOrEqual(matched[k].priority);
      }),
      runs,
    );
  });

  it('an inactive agent is always denied agent_inactive', () => {
    fc.assert(
      fc.property(policies, input, (ps, i) => {
        const result = compilePolicySet(ps).evaluate({ ...i, agent: { ...i.agent, active: false } });
        return result.decision === 'deny' && result.reason === 'agent_inactive';
      }),
      runs,
    );
  });

  it('missing context never removes a deny nor adds an allow', () => {
    fc.assert(
      fc.property(policies, input, (ps, i) => {
        const set = compilePolicySet(ps);
        const full = set.evaluate(i);
        const bare = set.evaluate({ ...i, context: { delegation_depth: i.context?.delegation_depth } });
        const fullDenies = new Set(full.reason === 'explicit_deny' ? ids(full) : []);
        const bareIds = new Set(ids(bare));
        if (full.reason === 'explicit_deny')
          expect([...fullDenies].every((id) => bareIds.has(id))).toBe(true);
        if (bare.reason === 'explicit_allow')
          expect(ids(bare).every((id) => ids(full).includes(id))).toBe(true);
        if (full.decision === 'deny') expect(bare.decision).toBe('deny');
      }),
      runs,
    );
  });
});

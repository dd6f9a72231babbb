import { managementResourceIdentifier } from '@agentauth/core';
import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { aKey, anAgent, API, aTree, type AgentJson, type Caller, requestToken } from '../../factories/agents';
import { freezeClock } from '../../factories/clock';
import { withDb } from '../../factories/db';
import { aPolicy, type EvaluationJson, type PolicyJson } from '../../factories/policies';
import { aResourceServer } from '../../factories/resource-servers';
import { aScope } from '../../factories/scopes';

jest.setTimeout(120_000);

type AgentName = 'team' | 'worker' | 'outsider' | 'eph';
type TimeName = 'base' | 'windowStart' | 'windowLastMs' | 'windowEnd' | 'beforeWindow';

const SCOPES = ['files:read', 'files:write', 'files:delete', 'reports:read'];
const AUDIENCES: (string | undefined)[] = [
  undefined,
  'https://files.example.com/docs',
  'https://other.example.com/api',
  'https://secret.example.com/vault',
];
const IPS = ['203.0.113.5', '10.9.3.4', '2001:db8:9::1'];
const CROSS_TIMES: TimeName[] = ['base', 'windowStart'];

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/**
 * Issue 7 "Done when": the same inputs through `POST /policies/evaluate` and through the token endpoint
 * (client_credentials) agree. A requested scope: allow ⇔ 200 carrying it, deny ⇔ 400 `invalid_scope`.
 * No scope parameter: the token carries exactly the key's scopes minus those evaluate denies. The client IP
 * reaches the token endpoint through X-Forwarded-For (127.0.0.1 is a trusted proxy) and the instant through
 * the app's frozen Clock; evaluate gets both in `context`.
 */
describe('policy evaluation and token issuance agree', () => {
  let t: TestApp;
  let root: Caller;
  const agents = {} as Record<AgentName, AgentJson>;
  const keys = {} as Record<AgentName, Caller>;
  /** A key of `team` holding only some of its scopes: the default set follows the key, not the agent. */
  let teamPartialKey: Caller;
  const teamPartialScopes = ['files:delete', 'files:read', 'reports:read'];
  const policies = {} as Record<string, PolicyJson>;
  let clock: ReturnType<typeof freezeClock>;
  let currentMs: number;
  const times = {} as Record<TimeName, number>;

  function setTime(name: TimeName): string {
    clock.clock.advance(times[name] - currentMs);
    currentMs = times[name];
    expect(clock.clock.nowMs()).toBe(times[name]);
    return new Date(times[name]).toISOString();
  }

  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY_CIDRS: '127.0.0.1/32,::1/128' });
    root = await aTree(t);
    for (const name of SCOPES) await aScope(t, root, name);
    // Every URI audience is a resource server of the tree accepting every scope (CONTRACT §8): its identifier
    // is the policies' resource at issuance.
    for (const identifier of AUDIENCES) {
      if (identifier !== undefined) await aResourceServer(t, root, { identifier, scopes: SCOPES });
    }
    agents.team = await anAgent(t, root, { allowed_scopes: [...SCOPES] });
    agents.worker = await anAgent(t, root, {
      parent_agent_id: agents.team.id,
      allowed_scopes: ['files:read', 'files:write', 'reports:read'],
    });
    agents.outsider = await anAgent(t, root, {
      allowed_scopes: ['files:read', 'files:delete', 'reports:read'],
    });
    agents.eph = await anAgent(t, root, {
      trust_level: 'ephemeral',
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
      allowed_scopes: ['files:read', 'reports:read'],
    });
    // Keys before any policy (creating one mints a token without `scope`).
    for (const name of Object.keys(agents) as AgentName[]) {
      keys[name] = await aKey(t, root, agents[name], { scopes: agents[name].allowed_scopes });
    }
    teamPartialKey = await aKey(t, root, agents.team, { scopes: teamPartialScopes });

    clock = freezeClock(t);
    currentMs = clock.frozenAt;
    // A one-minute window starting at the second minute boundary from now (UTC).
    const windowStart = Math.floor(clock.frozenAt / 60_000) * 60_000 + 120_000;
    Object.assign(times, {
      base: clock.frozenAt,
      beforeWindow: windowStart - 1,
      windowStart,
      windowLastMs: windowStart + 59_999,
      windowEnd: windowStart + 60_000,
    });

    policies.subtreeDelete = await aPolicy(t, root, {
      name: 'no deletes in the team subtree',
      subjects: [`agent:${agents.team.id}/*`],
      actions: ['files:delete'],
    });
    policies.workerWritesToFiles = await aPolicy(t, root, {
      name: 'worker never writes to the files service',
      subjects: [agents.worker.id],
      actions: ['files:write'],
      resources: ['https://files.example.com/*'],
    });
    policies.ephemeralReports = await aPolicy(t, root, {
      name: 'no reports for ephemeral agents',
      subjects: ['trust_level:ephemeral'],
      actions: ['reports:*'],
    });
    policies.quarantinedNetwork = await aPolicy(t, root, {
      name: 'no file access from the quarantined networks',
      subjects: ['*'],
      actions: ['files:*'],
      conditions: { ip_cidrs: ['10.9.0.0/16', '2001:db8:9::/48'] },
      priority: -10,
    });
    policies.readsEverywhere = await aPolicy(t, root, {
      name: 'reads are fine',
      effect: 'allow',
      subjects: ['*'],
      actions: ['files:read'],
      priority: 100,
    });
    policies.outsiderReportsWindow = await aPolicy(t, root, {
      name: 'outsider: no reports during the freeze window',
      subjects: [agents.outsider.id],
      actions: ['reports:read'],
      conditions: {
        time_window: { start: hhmm(windowStart), end: hhmm(windowStart + 60_000), timezone: 'UTC' },
      },
    });
    policies.outsiderSecrets = await aPolicy(t, root, {
      name: 'outsider never reads secrets',
      subjects: [agents.outsider.id],
      actions: ['files:read'],
      resources: ['https://secret.example.com/*'],
    });
    policies.ephemeralWrites = await aPolicy(t, root, {
      name: 'an allow never lifts the ceiling',
      effect: 'allow',
      subjects: [agents.eph.id],
      actions: ['files:write'],
    });
  });
  afterAll(async () => {
    clock?.restore();
    await t?.close();
  });

  async function evaluateAt(
    agent: AgentName,
    scope: string,
    audience: string | undefined,
    ip: string,
    time: TimeName,
  ): Promise<EvaluationJson> {
    const res = await request(t.http)
      .post(`${API}/policies/evaluate`)
      .set(root.auth)
      .set('X-Forwarded-For', ip)
      .send({
        agent_id: agents[agent].id,
        action: scope,
        // A token request naming no resource is for the management API, evaluated as its identifier.
        resource: audience ?? managementResourceIdentifier(t.config),
        context: { ip, time: new Date(times[time]).toISOString() },
      });
    if (res.status !== 200) throw new Error(`evaluate: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as EvaluationJson;
  }

  function tokenAt(holder: Caller, params: Record<string, string>, ip: string): Promise<request.Response> {
    return requestToken(t, holder, params)
      .set('X-Forwarded-For', ip)
      .then((res) => res);
  }

  /** `resource` (RFC 8707) for a URI audience, `audience` (RFC 8693) for a logical name such as the default. */
  const scopeParam = (scope: string | undefined, audience: string | undefined) => ({
    ...(scope !== undefined ? { scope } : {}),
    ...(audience === undefined ? {} : audience.includes('://') ? { resource: audience } : { audience }),
  });

  /** The token endpoint's verdict on one requested scope, in evaluate's terms. */
  async function issuanceDecision(
    agent: AgentName,
    scope: string,
    audience: string | undefined,
    ip: string,
  ): Promise<{ decision: 'allow' | 'deny'; res: request.Response }> {
    const res = await tokenAt(keys[agent], scopeParam(scope, audience), ip);
    if (res.status === 200) {
      expect(res.body.scope.split(' ')).toEqual([scope]);
      return { decision: 'allow', res };
    }
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: 'invalid_scope' });
    return { decision: 'deny', res };
  }

  it('agrees on a table of hand-picked cases, with the expected reasons', async () => {
    const cases: {
      agent: AgentName;
      scope: string;
      audience?: string;
      ip?: string;
      time?: TimeName;
      reason: string;
      policy?: string;
    }[] = [
      { agent: 'worker', scope: 'files:read', reason: 'explicit_allow', policy: 'readsEverywhere' },
      { agent: 'worker', scope: 'reports:read', reason: 'scope_grant' },
      // resource glob on the audience; no audience = the management API (beside the files service)
      {
        agent: 'worker',
        scope: 'files:write',
        audience: 'https://files.example.com/docs',
        reason: 'explicit_deny',
        policy: 'workerWritesToFiles',
      },
      {
        agent: 'worker',
        scope: 'files:write',
        audience: 'https://other.example.com/api',
        reason: 'scope_grant',
      },
      { agent: 'worker', scope: 'files:write', reason: 'scope_grant' },
      // the management identifier named explicitly is the same resource: the files deny is beside it
      {
        agent: 'worker',
        scope: 'files:write',
        audience: managementResourceIdentifier(t.config),
        reason: 'scope_grant',
      },
      // subtree subject: the team itself and its members, not an outsider
      { agent: 'team', scope: 'files:delete', reason: 'explicit_deny', policy: 'subtreeDelete' },
      { agent: 'outsider', scope: 'files:delete', reason: 'scope_grant' },
      // beyond allowed_scopes: default deny at evaluate, invalid_scope at the token endpoint
      // a deny matches whatever the ceiling (step order of CONTRACT §6)
      { agent: 'worker', scope: 'files:delete', reason: 'explicit_deny', policy: 'subtreeDelete' },
      { agent: 'worker', scope: 'reports:*', reason: 'default_deny' }, // holds reports:read only
      { agent: 'eph', scope: 'files:write', reason: 'default_deny' }, // an allow policy does not lift it
      // trust-level subject with an action glob
      { agent: 'eph', scope: 'reports:read', reason: 'explicit_deny', policy: 'ephemeralReports' },
      { agent: 'eph', scope: 'files:read', reason: 'explicit_allow', policy: 'readsEverywhere' },
      // IP conditions at the CIDR edges, IPv4 and IPv6; deny overrides a higher-priority allow
      {
        agent: 'worker',
        scope: 'files:read',
        ip: '10.9.0.0',
        reason: 'explicit_deny',
        policy: 'quarantinedNetwork',
      },
      {
        agent: 'worker',
        scope: 'files:read',
        ip: '10.9.255.255',
        reason: 'explicit_deny',
        policy: 'quarantinedNetwork',
      },
      { agent: 'worker', scope: 'files:read', ip: '10.8.255.255', reason: 'explicit_allow' },
      { agent: 'worker', scope: 'files:read', ip: '10.10.0.0', reason: 'explicit_allow' },
      { agent: 'outsider', scope: 'files:delete', ip: '2001:db8:9:ffff::1', reason: 'explicit_deny' },
      { agent: 'outsider', scope: 'files:delete', ip: '2001:db8:a::1', reason: 'scope_grant' },
      // time window: start inclusive, end exclusive
      { agent: 'outsider', scope: 'reports:read', time: 'beforeWindow', reason: 'scope_grant' },
      {
        agent: 'outsider',
        scope: 'reports:read',
        time: 'windowStart',
        reason: 'explicit_deny',
        policy: 'outsiderReportsWindow',
      },
      { agent: 'outsider', scope: 'reports:read', time: 'windowLastMs', reason: 'explicit_deny' },
      { agent: 'outsider', scope: 'reports:read', time: 'windowEnd', reason: 'scope_grant' },
      // resource globs per subject
      {
        agent: 'outsider',
        scope: 'files:read',
        audience: 'https://secret.example.com/vault',
        reason: 'explicit_deny',
        policy: 'outsiderSecrets',
      },
      {
        agent: 'outsider',
        scope: 'files:read',
        audience: 'https://files.example.com/docs',
        reason: 'explicit_allow',
      },
    ];
    try {
      for (const c of cases) {
        const ip = c.ip ?? '203.0.113.5';
        const time = c.time ?? 'base';
        setTime(time);
        const evaluation = await evaluateAt(c.agent, c.scope, c.audience, ip, time);
        const issued = await issuanceDecision(c.agent, c.scope, c.audience, ip);
        const label = { ...c, ip, time };
        expect({ ...label, evaluate: evaluation.reason, token: issued.decision }).toEqual({
          ...label,
          evaluate: c.reason,
          token: c.reason.endsWith('allow') || c.reason === 'scope_grant' ? 'allow' : 'deny',
        });
        if (c.policy) {
          expect(evaluation.matched_policies.map((p) => p.id)).toContain(policies[c.policy].id);
        }
        if (issued.decision === 'allow') {
          const claims = JSON.parse(
            Buffer.from(issued.res.body.access_token.split('.')[1], 'base64url').toString(),
          );
          expect(claims.aud).toBe(c.audience ?? managementResourceIdentifier(t.config));
        }
      }
    } finally {
      setTime('base');
    }
  });

  it('agrees on every combination of agent, scope, audience, client IP and time', async () => {
    const seen = { allow: 0, deny: 0, reasons: new Set<string>() };
    const mismatches: unknown[] = [];
    try {
      for (const time of CROSS_TIMES) {
        setTime(time);
        for (const agent of Object.keys(agents) as AgentName[]) {
          for (const scope of SCOPES) {
            for (const audience of AUDIENCES) {
              for (const ip of IPS) {
                const evaluation = await evaluateAt(agent, scope, audience, ip, time);
                const issued = await issuanceDecision(agent, scope, audience, ip);
                seen[evaluation.decision]++;
                seen.reasons.add(evaluation.reason);
                if (evaluation.decision !== issued.decision) {
                  mismatches.push({
                    agent,
                    scope,
                    audience,
                    ip,
                    time,
                    evaluate: evaluation,
                    token: issued.res.body,
                  });
                }
              }
            }
          }
        }
      }
    } finally {
      setTime('base');
    }
    expect(mismatches).toEqual([]);
    // The table exercises both outcomes and every reason but agent_inactive.
    expect(seen.allow).toBeGreaterThan(20);
    expect(seen.deny).toBeGreaterThan(20);
    expect([...seen.reasons].sort()).toEqual(
      ['default_deny', 'explicit_allow', 'explicit_deny', 'scope_grant'].sort(),
    );
  });

  it('without a scope parameter, issues exactly the key scopes minus those evaluate denies', async () => {
    const holders: { agent: AgentName; key: Caller; scopes: string[] }[] = [
      ...(Object.keys(agents) as AgentName[]).map((agent) => ({
        agent,
        key: keys[agent],
        scopes: agents[agent].allowed_scopes,
      })),
      { agent: 'team', key: teamPartialKey, scopes: teamPartialScopes },
    ];
    let dropping = 0;
    try {
      for (const time of CROSS_TIMES) {
        setTime(time);
        for (const { agent, key, scopes } of holders) {
          for (const audience of AUDIENCES) {
            for (const ip of IPS) {
              const allowed: string[] = [];
              for (const scope of scopes) {
                const evaluation = await evaluateAt(agent, scope, audience, ip, time);
                if (evaluation.decision === 'allow') allowed.push(scope);
              }
              const res = await tokenAt(key, scopeParam(undefined, audience), ip);
              const label = { agent, keyScopes: scopes, audience, ip, time };
              // Nothing left for a resource server is invalid_scope (CONTRACT §8); the management API
              // issues an empty scope.
              const emptyForServer = allowed.length === 0 && audience !== undefined;
              expect({ ...label, status: res.status }).toEqual({
                ...label,
                status: emptyForServer ? 400 : 200,
              });
              if (emptyForServer) {
                expect(res.body.error).toBe('invalid_scope');
                dropping++;
                continue;
              }
              const issued = ((res.body.scope as string | undefined) ?? '').split(' ').filter(Boolean);
              expect({ ...label, issued: issued.sort() }).toEqual({ ...label, issued: [...allowed].sort() });
              if (allowed.length < scopes.length) dropping++;
            }
          }
        }
      }
    } finally {
      setTime('base');
    }
    expect(dropping).toBeGreaterThan(10);
  });

  it('evaluates a request naming no resource, the management identifier or the base URL as the management API', async () => {
    // All three are the management API (CONTRACT §8): evaluated with its identifier as resource, so a deny
    // scoped to the files service does not apply; a request for the files service is that resource.
    const ip = '203.0.113.5';
    const management = managementResourceIdentifier(t.config);
    const cases: { audience: string | undefined; decision: 'allow' | 'deny' }[] = [
      { audience: management, decision: 'allow' },
      { audience: undefined, decision: 'allow' },
      { audience: t.config.publicBaseUrl, decision: 'allow' },
      { audience: 'https://other.example.com/api', decision: 'allow' },
      { audience: 'https://files.example.com/docs', decision: 'deny' },
    ];
    for (const { audience, decision } of cases) {
      const asResource =
        audience === undefined || audience === t.config.publicBaseUrl ? management : audience;
      const evaluation = await evaluateAt('worker', 'files:write', asResource, ip, 'base');
      expect(evaluation).toMatchObject({ decision, resource: asResource });
      const issued = await issuanceDecision('worker', 'files:write', audience, ip);
      expect({ audience, token: issued.decision }).toEqual({ audience, token: decision });
      if (issued.decision === 'allow') {
        expect(
          JSON.parse(Buffer.from(issued.res.body.access_token.split('.')[1], 'base64url').toString()).aud,
        ).toBe(asResource);
      }
    }
  });

  /** `scope.denied` events of one agent so far. */
  async function scopeDeniedEvents(agent: AgentName): Promise<Record<string, unknown>[]> {
    return withDb(async (db) => {
      const { rows } = await db.query(
        `SELECT * FROM audit_events WHERE event_type = 'scope.denied' AND actor_agent_id = $1`,
        [agents[agent].id],
      );
      return rows;
    });
  }

  it('audits each scope denied at issuance as scope.denied', async () => {
    const ip = '10.9.3.4';
    setTime('windowStart');
    try {
      // Explicit request: one denied scope, one event, and the request fails.
      const before = await scopeDeniedEvents('outsider');
      const known = new Set(before.map((e) => e.id));
      const newEvents = async () => {
        const fresh = (await scopeDeniedEvents('outsider')).filter((e) => !known.has(e.id));
        for (const e of fresh) known.add(e.id);
        return fresh;
      };
      const explicit = await tokenAt(keys.outsider, { scope: 'reports:read' }, ip);
      expect(explicit.body.error).toBe('invalid_scope');
      expect(explicit.headers['x-request-id']).toEqual(expect.any(String));
      const explicitEvents = await newEvents();
      expect(explicitEvents).toEqual([
        expect.objectContaining({
          event_type: 'scope.denied',
          outcome: 'denied',
          actor_agent_id: agents.outsider.id,
          root_agent_id: root.agent.id,
          target_type: 'scope',
          target_id: 'reports:read',
          ip,
          request_id: explicit.headers['x-request-id'],
          details: {
            reason: 'explicit_deny',
            resource: managementResourceIdentifier(t.config),
            policy_ids: [policies.outsiderReportsWindow.id],
          },
        }),
      ]);

      // Default set: every dropped scope is audited once (quarantined network + window), nothing is issued.
      const dropped = await tokenAt(keys.outsider, {}, ip);
      expect(dropped.status).toBe(200);
      expect(dropped.body.scope ?? '').toBe('');
      const events = await newEvents();
      expect(events.map((e) => e.target_id).sort()).toEqual(['files:delete', 'files:read', 'reports:read']);
      expect(events.every((e) => (e.details as { reason: string }).reason === 'explicit_deny')).toBe(true);
      expect(events.map((e) => e.request_id)).toEqual(events.map(() => dropped.headers['x-request-id']));

      // An allowed request audits nothing of the kind.
      setTime('base');
      const fine = await tokenAt(keys.outsider, { scope: 'reports:read' }, '203.0.113.5');
      expect(fine.status).toBe(200);
      expect(await newEvents()).toEqual([]);
    } finally {
      setTime('base');
    }
  });
});

import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { AgentsRepository } from '../../../libs/agents/src/agents.repository';
import { createTestApp, type TestApp } from '../../support/app';
import { aChildCaller, anAgent, API, aTree, type AgentJson, type Caller } from '../../factories/agents';
import { aPolicy, evaluate } from '../../factories/policies';
import { aScope } from '../../factories/scopes';

const problem = (code: string) => `urn:agentauth:problem:${code}`;

/** CONTRACT §6 evaluation through `POST /policies/evaluate`: the five reasons, deny-override, conditions. */
describe('POST /policies/evaluate', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  /** A fresh tree with files:* scopes registered and a worker holding some of them. */
  async function setup(): Promise<{ root: Caller; worker: AgentJson }> {
    const root = await aTree(t);
    for (const name of ['files:read', 'files:write', 'files:delete']) await aScope(t, root, name);
    const worker = await anAgent(t, root, { allowed_scopes: ['agents:read', 'files:read', 'files:delete'] });
    return { root, worker };
  }

  const decide = (caller: Caller, agent: AgentJson, action: string, extra: Record<string, unknown> = {}) =>
    evaluate(t, caller, { agent_id: agent.id, action, ...extra });

  it('answers each of the five reasons', async () => {
    const { root, worker } = await setup();
    const deny = await aPolicy(t, root, {
      name: 'no deletes',
      effect: 'deny',
      subjects: [worker.id],
      actions: ['files:delete'],
    });
    const allow = await aPolicy(t, root, {
      name: 'reads ok',
      effect: 'allow',
      subjects: [worker.id],
      actions: ['files:read'],
    });

    expect(await decide(root, worker, 'agents:read')).toEqual({
      decision: 'allow',
      reason: 'scope_grant',
      matched_policies: [],
      agent_id: worker.id,
      action: 'agents:read',
      resource: '*',
    });
    expect(await decide(root, worker, 'files:read', { resource: 'https://files.example.com' })).toEqual({
      decision: 'allow',
      reason: 'explicit_allow',
      matched_policies: [{ id: allow.id, name: 'reads ok', effect: 'allow' }],
      agent_id: worker.id,
      action: 'files:read',
      resource: 'https://files.example.com',
    });
    expect(await decide(root, worker, 'files:delete')).toMatchObject({
      decision: 'deny',
      reason: 'explicit_deny',
      matched_policies: [{ id: deny.id, name: 'no deletes', effect: 'deny' }],
    });
    expect(await decide(root, worker, 'files:write')).toMatchObject({
      decision: 'deny',
      reason: 'default_deny',
      matched_policies: [],
    });

    await request(t.http)
      .patch(`${API}/agents/${worker.id}`)
      .set(root.auth)
      .send({ status: 'suspended' })
      .expect(200);
    for (const action of ['agents:read', 'files:read', 'files:delete', 'files:write']) {
      expect(await decide(root, worker, action)).toMatchObject({
        decision: 'deny',
        reason: 'agent_inactive',
        matched_policies: [],
      });
    }
  });

  it('deny overrides allow on the same action whatever the priorities', async () => {
    const { root, worker } = await setup();
    for (const [allowPriority, denyPriority] of [
      [1000, -1000],
      [0, 0],
      [-5, 5],
    ]) {
      const allow = await aPolicy(t, root, {
        effect: 'allow',
        subjects: [worker.id],
        actions: ['files:read'],
        priority: allowPriority,
      });
      const deny = await aPolicy(t, root, {
        effect: 'deny',
        subjects: ['trust_level:delegated'],
        actions: ['files:*'],
        priority: denyPriority,
      });
      const decision = await decide(root, worker, 'files:read');
      expect(decision).toMatchObject({ decision: 'deny', reason: 'explicit_deny' });
      expect(decision.matched_policies.map((m) => m.id)).toEqual([deny.id]);
      for (const id of [allow.id, deny.id])
        await request(t.http).delete(`${API}/policies/${id}`).set(root.auth).expect(204);
    }
    expect(await decide(root, worker, 'files:read')).toMatchObject({ reason: 'scope_grant' });
  });

  it('orders matched_policies by priority (higher first), then id', async () => {
    const { root, worker } = await setup();
    const low = await aPolicy(t, root, {
      name: 'low',
      subjects: [worker.id],
      actions: ['files:delete'],
      priority: -1,
    });
    const high = await aPolicy(t, root, {
      name: 'high',
      subjects: ['*'],
      actions: ['files:*'],
      priority: 10,
    });
    const mid = await aPolicy(t, root, {
      name: 'mid',
      subjects: [`agent:${root.agent.id}/*`],
      actions: ['*'],
    });
    const decision = await decide(root, worker, 'files:delete');
    expect(decision.matched_policies.map((m) => m.name)).toEqual(['high', 'mid', 'low']);
    expect(new Set(decision.matched_policies.map((m) => m.id))).toEqual(new Set([low.id, high.id, mid.id]));
  });

  it('never lets an allow lift the allowed_scopes ceiling', async () => {
    const { root, worker } = await setup();
    await aPolicy(t, root, { effect: 'allow', subjects: ['*'], actions: ['*'], priority: 100 });
    for (const action of ['files:write', 'policies:write', 'agents:write', 'files:*']) {
      expect(await decide(root, worker, action)).toMatchObject({ decision: 'deny', reason: 'default_deny' });
    }
    expect(await decide(root, worker, 'files:read')).toMatchObject({ reason: 'explicit_allow' });
  });

  it('ignores disabled policies, and follows enabling and disabling at once', async () => {
    const { root, worker } = await setup();
    const deny = await aPolicy(t, root, { subjects: [worker.id], actions: ['files:read'], enabled: false });
    expect(await decide(root, worker, 'files:read')).toMatchObject({ reason: 'scope_grant' });
    await request(t.http)
      .patch(`${API}/policies/${deny.id}`)
      .set(root.auth)
      .send({ enabled: true })
      .expect(200);
    expect(await decide(root, worker, 'files:read')).toMatchObject({ reason: 'explicit_deny' });
    await request(t.http)
      .patch(`${API}/policies/${deny.id}`)
      .set(root.auth)
      .send({ enabled: false })
      .expect(200);
    expect(await decide(root, worker, 'files:read')).toMatchObject({ reason: 'scope_grant' });
  });

  it('matches subtrees, trust levels and resource globs', async () => {
    const { root, worker } = await setup();
    const team = await anAgent(t, root, { allowed_scopes: ['files:read'] });
    const member = await anAgent(t, root, { parent_agent_id: team.id, allowed_scopes: ['files:read'] });
    await aPolicy(t, root, {
      subjects: [`agent:${team.id}/*`],
      actions: ['files:read'],
      resources: ['https://secret.example.com/*'],
    });
    const secret = { resource: 'https://secret.example.com/a/b' };
    expect(await decide(root, team, 'files:read', secret)).toMatchObject({ reason: 'explicit_deny' });
    expect(await decide(root, member, 'files:read', secret)).toMatchObject({ reason: 'explicit_deny' });
    expect(await decide(root, worker, 'files:read', secret)).toMatchObject({ reason: 'scope_grant' });
    expect(
      await decide(root, member, 'files:read', { resource: 'https://public.example.com/x' }),
    ).toMatchObject({
      reason: 'scope_grant',
    });
    // The default resource `*` stands for every resource: a deny on one audience denies it (fail-closed).
    expect(await decide(root, member, 'files:read')).toMatchObject({ reason: 'explicit_deny' });

    const ephemeral = await anAgent(t, root, {
      trust_level: 'ephemeral',
      allowed_scopes: ['files:read'],
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
    });
    await aPolicy(t, root, { subjects: ['trust_level:ephemeral'], actions: ['files:*'] });
    expect(await decide(root, ephemeral, 'files:read', { resource: 'x' })).toMatchObject({
      reason: 'explicit_deny',
    });
    expect(await decide(root, worker, 'files:read', { resource: 'x' })).toMatchObject({
      reason: 'scope_grant',
    });
  });

  describe('conditions at their boundaries', () => {
    it('ip_cidrs: IPv4 and IPv6 range edges; an absent IP holds for a deny and fails for an allow', async () => {
      const { root, worker } = await setup();
      await aPolicy(t, root, {
        subjects: [worker.id],
        actions: ['files:delete'],
        conditions: { ip_cidrs: ['10.0.0.0/24', '2001:db8::/126'] },
      });
      await aPolicy(t, root, {
        effect: 'allow',
        subjects: [worker.id],
        actions: ['files:read'],
        conditions: { ip_cidrs: ['192.168.1.128/25'] },
      });
      const at = (ip: string | undefined, action: string) =>
        decide(root, worker, action, ip === undefined ? {} : { context: { ip } });
      const deniedFrom = ['10.0.0.0', '10.0.0.255', '::ffff:10.0.0.7', '2001:db8::', '2001:db8::3'];
      const grantedFrom = [
        '9.255.255.255',
        '10.0.1.0',
        '2001:db8::4',
        '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff',
      ];
      for (const ip of deniedFrom)
        expect({ ip, ...(await at(ip, 'files:delete')) }).toMatchObject({ ip, reason: 'explicit_deny' });
      for (const ip of grantedFrom)
        expect({ ip, ...(await at(ip, 'files:delete')) }).toMatchObject({ ip, reason: 'scope_grant' });
      expect(await at(undefined, 'files:delete')).toMatchObject({ reason: 'explicit_deny' });

      expect(await at('192.168.1.128', 'files:read')).toMatchObject({ reason: 'explicit_allow' });
      expect(await at('192.168.1.255', 'files:read')).toMatchObject({ reason: 'explicit_allow' });
      expect(await at('192.168.1.127', 'files:read')).toMatchObject({ reason: 'scope_grant' });
      expect(await at(undefined, 'files:read')).toMatchObject({ reason: 'scope_grant' });
    });

    it('time_window: start inclusive, end exclusive, crossing midnight, days of the start', async () => {
      const { root, worker } = await setup();
      await aPolicy(t, root, {
        subjects: [worker.id],
        actions: ['files:delete'],
        conditions: { time_window: { start: '09:00', end: '17:00', timezone: 'UTC' } },
      });
      await aPolicy(t, root, {
        subjects: [worker.id],
        actions: ['files:read'],
        // Friday night 22:00 → Saturday 06:00, UTC.
        conditions: { time_window: { start: '22:00', end: '06:00', timezone: 'UTC', days: ['fri'] } },
      });
      const at = (time: string, action: string) => decide(root, worker, action, { context: { time } });
      // 2026-06-05 is a Friday.
      const cases: [string, string, string][] = [
        ['2026-06-03T08:59:59.999Z', 'files:delete', 'scope_grant'],
        ['2026-06-03T09:00:00.000Z', 'files:delete', 'explicit_deny'],
        ['2026-06-03T16:59:59.999Z', 'files:delete', 'explicit_deny'],
        ['2026-06-03T17:00:00.000Z', 'files:delete', 'scope_grant'],
        ['2026-06-05T21:59:59.999Z', 'files:read', 'scope_grant'],
        ['2026-06-05T22:00:00.000Z', 'files:read', 'explicit_deny'],
        ['2026-06-06T05:59:59.999Z', 'files:read', 'explicit_deny'], // Saturday morning: the window started Friday
        ['2026-06-06T06:00:00.000Z', 'files:read', 'scope_grant'],
        ['2026-06-06T22:30:00.000Z', 'files:read', 'scope_grant'], // Saturday night: not a Friday window
        ['2026-06-05T03:00:00.000Z', 'files:read', 'scope_grant'], // Friday 03:00 belongs to Thursday's window
      ];
      for (const [time, action, reason] of cases) {
        expect({ time, action, reason: (await at(time, action)).reason }).toEqual({ time, action, reason });
      }
    });

    it('time_window in Europe/Berlin across the spring-forward day', async () => {
      const { root, worker } = await setup();
      await aPolicy(t, root, {
        subjects: [worker.id],
        actions: ['files:delete'],
        conditions: { time_window: { start: '08:00', end: '09:00', timezone: 'Europe/Berlin' } },
      });
      await aPolicy(t, root, {
        subjects: [worker.id],
        actions: ['files:read'],
        conditions: { time_window: { start: '02:00', end: '03:00', timezone: 'Europe/Berlin' } },
      });
      const at = (time: string, action: string) => decide(root, worker, action, { context: { time } });
      // 2026-03-29 02:00 CET → 03:00 CEST: UTC+1 the day before, UTC+2 that day.
      const cases: [string, string, string][] = [
        ['2026-03-28T07:00:00.000Z', 'files:delete', 'explicit_deny'], // 08:00 CET
        ['2026-03-28T07:59:59.999Z', 'files:delete', 'explicit_deny'],
        ['2026-03-28T08:00:00.000Z', 'files:delete', 'scope_grant'], // 09:00 CET
        ['2026-03-29T05:59:59.999Z', 'files:delete', 'scope_grant'], // 07:59 CEST
        ['2026-03-29T06:00:00.000Z', 'files:delete', 'explicit_deny'], // 08:00 CEST
        ['2026-03-29T07:00:00.000Z', 'files:delete', 'scope_grant'], // 09:00 CEST
        ['2026-03-28T01:30:00.000Z', 'files:read', 'explicit_deny'], // 02:30 CET
        ['2026-03-29T00:59:59.999Z', 'files:read', 'scope_grant'], // 01:59 CET
        ['2026-03-29T01:00:00.000Z', 'files:read', 'scope_grant'], // 03:00 CEST: 02:xx never happens that day
        ['2026-03-29T01:30:00.000Z', 'files:read', 'scope_grant'],
      ];
      for (const [time, action, reason] of cases) {
        expect({ time, action, reason: (await at(time, action)).reason }).toEqual({ time, action, reason });
      }
    });

    it('max_delegation_depth: holds up to and including the limit', async () => {
      const { root, worker } = await setup();
      await aPolicy(t, root, {
        effect: 'allow',
        subjects: [worker.id],
        actions: ['files:read'],
        conditions: { max_delegation_depth: 2 },
      });
      await aPolicy(t, root, {
        subjects: [worker.id],
        actions: ['files:delete'],
        conditions: { max_delegation_depth: 1 },
      });
      const at = (depth: number | undefined, action: string) =>
        decide(root, worker, action, depth === undefined ? {} : { context: { delegation_depth: depth } });
      expect(await at(undefined, 'files:read')).toMatchObject({ reason: 'explicit_allow' }); // absent = 0
      expect(await at(2, 'files:read')).toMatchObject({ reason: 'explicit_allow' });
      expect(await at(3, 'files:read')).toMatchObject({ reason: 'scope_grant' });
      expect(await at(1, 'files:delete')).toMatchObject({ reason: 'explicit_deny' });
      expect(await at(2, 'files:delete')).toMatchObject({ reason: 'scope_grant' });
    });

    it('all given conditions must hold', async () => {
      const { root, worker } = await setup();
      await aPolicy(t, root, {
        subjects: [worker.id],
        actions: ['files:delete'],
        conditions: {
          ip_cidrs: ['10.0.0.0/8'],
          time_window: { start: '00:00', end: '12:00', timezone: 'UTC' },
          max_delegation_depth: 0,
        },
      });
      const at = (ip: string, time: string, depth: number) =>
        decide(root, worker, 'files:delete', { context: { ip, time, delegation_depth: depth } });
      expect(await at('10.1.2.3', '2026-06-03T11:00:00Z', 0)).toMatchObject({ reason: 'explicit_deny' });
      expect(await at('11.1.2.3', '2026-06-03T11:00:00Z', 0)).toMatchObject({ reason: 'scope_grant' });
      expect(await at('10.1.2.3', '2026-06-03T12:00:00Z', 0)).toMatchObject({ reason: 'scope_grant' });
      expect(await at('10.1.2.3', '2026-06-03T11:00:00Z', 1)).toMatchObject({ reason: 'scope_grant' });
    });
  });

  it('uses the clock for an absent context.time', async () => {
    const { root, worker } = await setup();
    const hour = new Date().getUTCHours();
    const pad = (n: number) => String(n).padStart(2, '0');
    await aPolicy(t, root, {
      subjects: [worker.id],
      actions: ['files:delete'],
      conditions: {
        time_window: { start: `${pad(hour)}:00`, end: `${pad((hour + 2) % 24)}:00`, timezone: 'UTC' },
      },
    });
    expect(await decide(root, worker, 'files:delete')).toMatchObject({ reason: 'explicit_deny' });
  });

  it('refuses bad input with 400 and invisible agents with 404', async () => {
    const { root, worker } = await setup();
    const bodies: Record<string, unknown>[] = [
      { agent_id: worker.id },
      { action: 'files:read' },
      { agent_id: 'me', action: 'files:read' },
      { agent_id: worker.id, action: 'Files:Read' },
      { agent_id: worker.id, action: '*' },
      { agent_id: worker.id, action: 'files:read', resource: 'has space' },
      { agent_id: worker.id, action: 'files:read', resource: '' },
      { agent_id: worker.id, action: 'files:read', context: { ip: '999.1.1.1' } },
      { agent_id: worker.id, action: 'files:read', context: { time: 'yesterday' } },
      { agent_id: worker.id, action: 'files:read', context: { delegation_depth: -1 } },
      { agent_id: worker.id, action: 'files:read', context: { delegation_depth: 1.5 } },
      { agent_id: worker.id, action: 'files:read', context: { country: 'de' } },
      { agent_id: worker.id, action: 'files:read', context: 'now' },
      { agent_id: worker.id, action: 'files:read', extra: true },
    ];
    for (const body of bodies) {
      const res = await request(t.http).post(`${API}/policies/evaluate`).set(root.auth).send(body);
      expect({ body, status: res.status, type: res.body.type }).toEqual({
        body,
        status: 400,
        type: problem('validation_error'),
      });
    }
    const sibling = await anAgent(t, root);
    const child = await aChildCaller(t, root, { allowed_scopes: ['policies:read'] });
    const send = (caller: Caller, agentId: string) =>
      request(t.http)
        .post(`${API}/policies/evaluate`)
        .set(caller.auth)
        .send({ agent_id: agentId, action: 'files:read' });
    const unknown = await send(root, randomUUID()).expect(404);
    const other = await aTree(t);
    const foreign = await send(root, other.agent.id).expect(404);
    const { request_id: _a, ...unknownBody } = unknown.body;
    const { request_id: _b, ...foreignBody } = foreign.body;
    expect(foreignBody).toEqual(unknownBody);
    await send(child, sibling.id).expect(404);
    await send(child, root.agent.id).expect(404);
    await send(child, child.agent.id).expect(200);
    const writer = await aChildCaller(t, root, { allowed_scopes: ['policies:write'] });
    await send(writer, writer.agent.id).expect(403);
  });

  it('reads the agent with one query (its chain: visibility, activity and ancestors at once)', async () => {
    const { root, worker } = await setup();
    await decide(root, worker, 'files:read'); // warms the tree's policy set
    const repository = t.app.get(AgentsRepository);
    const chain = jest.spyOn(repository, 'chainUnscoped');
    const inSubtree = jest.spyOn(repository, 'findInSubtree');
    try {
      expect((await decide(root, worker, 'files:read')).reason).toBe('scope_grant');
      expect(chain).toHaveBeenCalledTimes(1);
      expect(inSubtree).not.toHaveBeenCalled();
    } finally {
      chain.mockRestore();
      inSubtree.mockRestore();
    }
  });
});

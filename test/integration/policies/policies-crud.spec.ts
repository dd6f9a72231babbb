import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { anAgent, API, aTree, type Caller } from '../../factories/agents';
import { auditEventsOf } from '../../factories/db';
import { aPolicy, type PolicyJson } from '../../factories/policies';

const problem = (code: string) => `urn:agentauth:problem:${code}`;

describe('policies CRUD', () => {
  let t: TestApp;
  let root: Caller;
  beforeAll(async () => {
    t = await createTestApp();
    root = await aTree(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates with defaults, normalizes subjects, reads it back, and lists it', async () => {
    const worker = await anAgent(t, root);
    const res = await request(t.http)
      .post(`${API}/policies`)
      .set(root.auth)
      .send({
        name: 'no deletes',
        effect: 'deny',
        subjects: [
          worker.id.toUpperCase(),
          `agent:${worker.id.toUpperCase()}/*`,
          'trust_level:ephemeral',
          '*',
          '*',
        ],
        actions: ['files:delete', 'files:delete'],
      })
      .expect(201);
    const policy = res.body as PolicyJson;
    expect(policy).toEqual({
      id: expect.any(String),
      root_agent_id: root.agent.id,
      owner_agent_id: root.agent.id,
      name: 'no deletes',
      description: null,
      effect: 'deny',
      subjects: [worker.id, `agent:${worker.id}/*`, 'trust_level:ephemeral', '*'],
      actions: ['files:delete'],
      resources: ['*'],
      conditions: {},
      priority: 0,
      enabled: true,
      version: 1,
      created_at: expect.any(String),
      updated_at: policy.created_at,
    });
    const got = await request(t.http).get(`${API}/policies/${policy.id}`).set(root.auth).expect(200);
    expect(got.body).toEqual(policy);
    const list = await request(t.http)
      .get(`${API}/policies`)
      .query({ limit: 200 })
      .set(root.auth)
      .expect(200);
    expect(list.body.items).toContainEqual(policy);
  });

  it('updates field by field (conditions replaced as a whole, null clears), bumping the version', async () => {
    const policy = await aPolicy(t, root, {
      conditions: { ip_cidrs: ['10.0.0.0/8'], max_delegation_depth: 1 },
      description: 'first',
    });
    const patched = await request(t.http)
      .patch(`${API}/policies/${policy.id}`)
      .set(root.auth)
      .send({
        priority: 7,
        conditions: { time_window: { start: '08:00', end: '18:00', timezone: 'Europe/Berlin' } },
      })
      .expect(200);
    expect(patched.body).toMatchObject({
      priority: 7,
      conditions: { time_window: { start: '08:00', end: '18:00', timezone: 'Europe/Berlin' } },
      description: 'first',
      version: 2,
    });
    const cleared = await request(t.http)
      .patch(`${API}/policies/${policy.id}`)
      .set(root.auth)
      .send({ conditions: null, description: null, effect: 'allow' })
      .expect(200);
    expect(cleared.body).toMatchObject({ conditions: {}, description: null, effect: 'allow', version: 3 });
    await request(t.http).patch(`${API}/policies/${policy.id}`).set(root.auth).send({}).expect(400);
  });

  it('deletes (204), after which the id is unknown', async () => {
    const policy = await aPolicy(t, root);
    await request(t.http).delete(`${API}/policies/${policy.id}`).set(root.auth).expect(204);
    await request(t.http).get(`${API}/policies/${policy.id}`).set(root.auth).expect(404);
    await request(t.http).delete(`${API}/policies/${policy.id}`).set(root.auth).expect(404);
    await request(t.http)
      .patch(`${API}/policies/${policy.id}`)
      .set(root.auth)
      .send({ enabled: false })
      .expect(404);
  });

  const valid = { name: 'p', effect: 'deny', subjects: ['*'], actions: ['files:read'] };
  const invalidBodies: [string, Record<string, unknown>, string][] = [
    ['missing name', { ...valid, name: undefined }, 'name'],
    ['blank name', { ...valid, name: '   ' }, 'name'],
    ['bad effect', { ...valid, effect: 'maybe' }, 'effect'],
    ['empty subjects', { ...valid, subjects: [] }, 'subjects'],
    ['bad subject', { ...valid, subjects: ['agent:nope/*'] }, 'subjects.0'],
    ['empty actions', { ...valid, actions: [] }, 'actions'],
    ['glob with space', { ...valid, actions: ['files read'] }, 'actions.0'],
    ['bad CIDR', { ...valid, conditions: { ip_cidrs: ['10.0.0.0/33'] } }, 'conditions.ip_cidrs.0'],
    ['not an IP', { ...valid, conditions: { ip_cidrs: ['localhost'] } }, 'conditions.ip_cidrs.0'],
    [
      'IPv6 prefix too long',
      { ...valid, conditions: { ip_cidrs: ['2001:db8::/129'] } },
      'conditions.ip_cidrs.0',
    ],
    [
      'bad HH:MM',
      { ...valid, conditions: { time_window: { start: '24:00', end: '08:00', timezone: 'UTC' } } },
      'conditions.time_window.start',
    ],
    [
      'HH:MM without minutes',
      { ...valid, conditions: { time_window: { start: '08:00', end: '9', timezone: 'UTC' } } },
      'conditions.time_window.end',
    ],
    [
      'unknown time zone',
      { ...valid, conditions: { time_window: { start: '08:00', end: '09:00', timezone: 'Mars/Olympus' } } },
      'conditions.time_window.timezone',
    ],
    [
      'raw offset as time zone',
      { ...valid, conditions: { time_window: { start: '08:00', end: '09:00', timezone: '+02:00' } } },
      'conditions.time_window.timezone',
    ],
    [
      'invalid day',
      {
        ...valid,
        conditions: { time_window: { start: '08:00', end: '09:00', timezone: 'UTC', days: ['monday'] } },
      },
      'conditions.time_window.days.0',
    ],
    [
      'negative depth',
      { ...valid, conditions: { max_delegation_depth: -1 } },
      'conditions.max_delegation_depth',
    ],
    ['unknown condition', { ...valid, conditions: { country: 'de' } }, 'conditions.country'],
    ['fractional priority', { ...valid, priority: 1.5 }, 'priority'],
    ['priority beyond 32 bits', { ...valid, priority: 2 ** 31 }, 'priority'],
    ['enabled as string', { ...valid, enabled: 'yes' }, 'enabled'],
    ['unknown field', { ...valid, owner_agent_id: '00000000-0000-4000-8000-000000000000' }, 'owner_agent_id'],
    ['conditions as array', { ...valid, conditions: [] }, 'conditions'],
  ];
  it.each(invalidBodies)('refuses %s with 400 and a field error', async (_name, body, field) => {
    const before = await request(t.http)
      .get(`${API}/policies`)
      .query({ limit: 200 })
      .set(root.auth)
      .expect(200);
    const res = await request(t.http).post(`${API}/policies`).set(root.auth).send(body).expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe(problem('validation_error'));
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    const after = await request(t.http)
      .get(`${API}/policies`)
      .query({ limit: 200 })
      .set(root.auth)
      .expect(200);
    expect(after.body.items).toHaveLength(before.body.items.length);
  });

  it('validates a PATCH the same way and leaves the policy unchanged', async () => {
    const policy = await aPolicy(t, root);
    for (const [, body, field] of invalidBodies.filter(([name]) => !name.startsWith('missing'))) {
      const res = await request(t.http)
        .patch(`${API}/policies/${policy.id}`)
        .set(root.auth)
        .send(body)
        .expect(400);
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    }
    const got = await request(t.http).get(`${API}/policies/${policy.id}`).set(root.auth).expect(200);
    expect(got.body).toEqual(policy);
    await request(t.http).get(`${API}/policies/not-a-uuid`).set(root.auth).expect(400);
  });

  it('filters and paginates the list', async () => {
    const tree = await aTree(t);
    const worker = await anAgent(t, tree);
    const created: PolicyJson[] = [];
    for (let i = 0; i < 5; i++) {
      created.push(
        await aPolicy(t, tree, {
          name: `p${i}`,
          effect: i % 2 ? 'allow' : 'deny',
          enabled: i !== 4,
          subjects: i === 0 ? [`agent:${worker.id}/*`] : ['*'],
        }),
      );
    }
    const page = async (query: Record<string, unknown>) =>
      (await request(t.http).get(`${API}/policies`).query(query).set(tree.auth).expect(200)).body;
    expect((await page({ effect: 'allow' })).items.map((p: PolicyJson) => p.name)).toEqual(['p1', 'p3']);
    expect((await page({ enabled: 'false' })).items.map((p: PolicyJson) => p.name)).toEqual(['p4']);
    expect(
      (await page({ subject: `agent:${worker.id.toUpperCase()}/*` })).items.map((p: PolicyJson) => p.name),
    ).toEqual(['p0']);
    expect((await page({ owner_agent_id: tree.agent.id })).items).toHaveLength(5);
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const body = await page({ limit: 2, ...(cursor ? { cursor } : {}) });
      names.push(...body.items.map((p: PolicyJson) => p.name));
      cursor = body.next_cursor;
    } while (cursor);
    expect(names).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    for (const query of [
      { effect: 'maybe' },
      { enabled: 'yes' },
      { subject: 'nobody' },
      { cursor: 'x!' },
      { limit: 0 },
      { owner_agent_id: 'me' },
    ]) {
      await request(t.http).get(`${API}/policies`).query(query).set(tree.auth).expect(400);
    }
  });

  it('needs policies:write to change and policies:read to read', async () => {
    const policy = await aPolicy(t, root);
    const reader = await aTree(t, { allowed_scopes: ['policies:read', 'agents:write', 'credentials:write'] });
    const writer = await aTree(t, { allowed_scopes: ['policies:write'] });
    await request(t.http).post(`${API}/policies`).set(reader.auth).send(valid).expect(403);
    await request(t.http).get(`${API}/policies`).set(writer.auth).expect(403);
    await request(t.http).get(`${API}/policies/${policy.id}`).set(writer.auth).expect(403);
    await request(t.http).post(`${API}/policies`).send(valid).expect(401);
  });

  it('records policy.created, policy.updated and policy.deleted', async () => {
    const created = await request(t.http).post(`${API}/policies`).set(root.auth).send(valid).expect(201);
    const id = created.body.id;
    const updated = await request(t.http)
      .patch(`${API}/policies/${id}`)
      .set(root.auth)
      .send({ priority: 3 })
      .expect(200);
    const deleted = await request(t.http).delete(`${API}/policies/${id}`).set(root.auth).expect(204);
    const refused = await request(t.http)
      .post(`${API}/policies`)
      .set(root.auth)
      .send({ ...valid, effect: 'x' })
      .expect(400);
    const common = {
      target_type: 'policy',
      target_id: id,
      actor_agent_id: root.agent.id,
      root_agent_id: root.agent.id,
    };
    expect(await auditEventsOf(created.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'policy.created',
        outcome: 'success',
        ...common,
        details: { effect: 'deny', enabled: true },
      }),
    ]);
    expect(await auditEventsOf(updated.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'policy.updated',
        outcome: 'success',
        ...common,
        details: { fields: ['priority'], version: 2 },
      }),
    ]);
    expect(await auditEventsOf(deleted.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'policy.deleted',
        outcome: 'success',
        ...common,
        details: { name: 'p', effect: 'deny' },
      }),
    ]);
    expect(await auditEventsOf(refused.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'policy.created',
        outcome: 'failure',
        details: { error: 'validation_error' },
      }),
    ]);
  });

  it('counts policies in /stats', async () => {
    await aPolicy(t, root);
    const res = await request(t.http)
      .get(`${API}/stats`)
      .set('X-Admin-Key', t.config.adminApiKey)
      .expect(200);
    expect(res.body.policies).toEqual({ total: expect.any(Number) });
    expect(res.body.policies.total).toBeGreaterThan(0);
  });
});

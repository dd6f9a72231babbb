import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { aKey, anAgent, API, aTree, type Caller } from '../../factories/agents';
import { withDb } from '../../factories/db';

const SQL = "'; DROP TABLE agents;--";
const UUID = '0b7e9e3e-5d0c-4f63-9d7e-2f1c8e1a2b3c';
const big = (n: number) => 'x'.repeat(n);
const deep = (levels: number) => {
  let body = '1';
  for (let i = 0; i < levels; i++) body = `{"a":${body}}`;
  return body;
};

type Case = [name: string, body?: unknown, query?: Record<string, unknown>];

/**
 * Bad input on every endpoint answers 4xx problem+json, never 500. Bodies are sent as given (objects as
 * JSON, strings raw with a JSON content type).
 */
describe('bad input never gets a 500', () => {
  let t: TestApp;
  let root: Caller;
  let child: Caller;

  beforeAll(async () => {
    t = await createTestApp();
    root = await aTree(t);
    child = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['agents:read'] }));
  });
  afterAll(async () => {
    await t.close();
  });

  const agentBodies: Case[] = [
    ['name as number', { name: 123 }],
    ['name null', { name: null }],
    ['no name', {}],
    ['empty name', { name: '' }],
    ['name too long', { name: big(201) }],
    ['name with NUL', { name: 'a\u0000b' }],
    ['name with lone surrogate', { name: 'a\ud800b' }],
    ['description too long', { name: 'x', description: big(2001) }],
    ['version too long', { name: 'x', version: big(101) }],
    ['capabilities as string', { name: 'x', capabilities: 'tools' }],
    ['capabilities null', { name: 'x', capabilities: null }],
    ['too many capabilities', { name: 'x', capabilities: Array.from({ length: 51 }, (_, i) => `c${i}`) }],
    ['capability too long', { name: 'x', capabilities: [big(101)] }],
    ['capability as object', { name: 'x', capabilities: [{ a: 1 }] }],
    ['metadata as array', { name: 'x', metadata: [1] }],
    ['metadata as string', { name: 'x', metadata: 'x' }],
    ['metadata too large', { name: 'x', metadata: { blob: big(16 * 1024) } }],
    ['metadata with NUL', { name: 'x', metadata: { a: 'b\u0000' } }],
    ['metadata too deep', { name: 'x', metadata: JSON.parse(deep(20)) }],
    ['allowed_scopes as string', { name: 'x', allowed_scopes: 'agents:read' }],
    ['too many scopes', { name: 'x', allowed_scopes: Array.from({ length: 101 }, (_, i) => `s:${i}`) }],
    ['upper-case scope', { name: 'x', allowed_scopes: ['Agents:Read'] }],
    ['scope with space', { name: 'x', allowed_scopes: ['agents read'] }],
    ['bare wildcard scope', { name: 'x', allowed_scopes: ['*'] }],
    ['empty scope', { name: 'x', allowed_scopes: [''] }],
    ['SQL in a scope', { name: 'x', allowed_scopes: [SQL] }],
    ['unknown field', { name: 'x', owner: 'me' }],
    ['trust_level root', { name: 'x', trust_level: 'root' }],
    ['trust_level number', { name: 'x', trust_level: 1 }],
    ['parent_agent_id not a UUID', { name: 'x', parent_agent_id: 'nope' }],
    ['parent_agent_id SQL', { name: 'x', parent_agent_id: SQL }],
    ['parent_agent_id number', { name: 'x', parent_agent_id: 5 }],
    ['expires_at word', { name: 'x', expires_at: 'tomorrow' }],
    ['expires_at impossible date', { name: 'x', expires_at: '2030-02-30T00:00:00Z' }],
    ['expires_at without zone', { name: 'x', expires_at: '2030-01-01T00:00:00' }],
    ['expires_at number', { name: 'x', expires_at: 1893456000 }],
    ['expires_at far future', { name: 'x', expires_at: '+275760-09-13T00:00:00.000Z' }],
    ['array body', '[{"name":"x"}]'],
    ['string body', '"x"'],
    ['malformed JSON', '{"name": '],
    ['deeply nested JSON', `{"name":"x","metadata":${deep(5000)}}`],
  ];

  const endpoints: {
    name: string;
    method: 'get' | 'post' | 'patch' | 'delete';
    path: () => string;
    cases: Case[];
  }[] = [
    { name: 'POST /agents', method: 'post', path: () => '/agents', cases: agentBodies },
    {
      name: 'POST /agents/bootstrap',
      method: 'post',
      path: () => '/agents/bootstrap',
      cases: [
        ...agentBodies.filter(([n]) => !/parent_agent_id|trust_level|expires_at/.test(n)),
        ['non-built-in scope', { name: 'x', allowed_scopes: ['files:read'] }],
        ['trust_level field', { name: 'x', trust_level: 'delegated' }],
      ],
    },
    {
      name: 'GET /agents',
      method: 'get',
      path: () => '/agents',
      cases: [
        ['limit 0', undefined, { limit: 0 }],
        ['limit 201', undefined, { limit: 201 }],
        ['limit word', undefined, { limit: 'ten' }],
        ['limit negative', undefined, { limit: -1 }],
        ['limit fraction', undefined, { limit: 1.5 }],
        ['limit twice', undefined, { limit: [1, 2] }],
        ['cursor garbage', undefined, { cursor: '!!!' }],
        ['cursor SQL', undefined, { cursor: SQL }],
        [
          'cursor forged',
          undefined,
          { cursor: Buffer.from(`{"t":"${SQL}","i":"${UUID}"}`).toString('base64url') },
        ],
        ['cursor too long', undefined, { cursor: big(600) }],
        ['status unknown', undefined, { status: 'deleted' }],
        ['trust_level unknown', undefined, { trust_level: 'god' }],
        ['parent_agent_id not a UUID', undefined, { parent_agent_id: 'nope' }],
        ['parent_agent_id SQL', undefined, { parent_agent_id: SQL }],
        ['unknown parameter', undefined, { owner: 'me' }],
      ],
    },
    ...(['get', 'patch', 'delete'] as const).map((method) => ({
      name: `${method.toUpperCase()} /agents/{id} with a bad id`,
      method,
      path: () => `/agents/${encodeURIComponent(SQL)}`,
      cases: [['SQL id', method === 'patch' ? { name: 'x' } : undefined]] as Case[],
    })),
    ...(['get', 'patch', 'delete'] as const).map((method) => ({
      name: `${method.toUpperCase()} /agents/{id} with a non-UUID id`,
      method,
      path: () => '/agents/12345',
      cases: [['numeric id', method === 'patch' ? { name: 'x' } : undefined]] as Case[],
    })),
    {
      name: 'PATCH /agents/{id}',
      method: 'patch',
      path: () => `/agents/${child.agent.id}`,
      cases: [
        ['empty body', {}],
        ['name null', { name: null }],
        ['capabilities null', { capabilities: null }],
        ['metadata null', { metadata: null }],
        ['allowed_scopes null', { allowed_scopes: null }],
        ['status deactivated', { status: 'deactivated' }],
        ['status null', { status: null }],
        ['status number', { status: 1 }],
        ['expires_at word', { expires_at: 'never' }],
        ['trust_level', { trust_level: 'ephemeral' }],
        ['parent_agent_id', { parent_agent_id: UUID }],
        ['root_agent_id', { root_agent_id: UUID }],
        ['depth', { depth: 0 }],
        ['id', { id: UUID }],
        ['path', { path: '/' }],
        ['name too long', { name: big(201) }],
        ['metadata too large', { metadata: { blob: big(16 * 1024) } }],
        ['invalid scope', { allowed_scopes: [SQL] }],
        ['array body', '[]'],
      ],
    },
    {
      name: 'POST /credentials',
      method: 'post',
      path: () => '/credentials',
      cases: [
        ['agent_id not a UUID', { agent_id: 'me' }],
        ['agent_id SQL', { agent_id: SQL }],
        ['agent_id null', { agent_id: null }],
        ['name too long', { name: big(201) }],
        ['name number', { name: 5 }],
        ['scopes string', { scopes: 'agents:read' }],
        ['scopes null', { scopes: null }],
        ['invalid scope', { scopes: ['AGENTS'] }],
        ['too many scopes', { scopes: Array.from({ length: 101 }, (_, i) => `s:${i}`) }],
        ['expires_at word', { expires_at: 'soon' }],
        ['expires_at in the past', { expires_at: '2001-01-01T00:00:00Z' }],
        ['unknown field', { secret: 'mine' }],
        ['hash field', { hash: '$argon2id$' }],
        ['string body', '"x"'],
      ],
    },
    {
      name: 'GET /credentials',
      method: 'get',
      path: () => '/credentials',
      cases: [
        ['agent_id not a UUID', undefined, { agent_id: 'me' }],
        ['agent_id SQL', undefined, { agent_id: SQL }],
        ['status unknown', undefined, { status: 'archived' }],
        ['cursor garbage', undefined, { cursor: 'abc$' }],
        ['limit huge', undefined, { limit: 10_000 }],
        ['unknown parameter', undefined, { prefix: 'x' }],
      ],
    },
    {
      name: 'POST /credentials/{id}/rotate',
      method: 'post',
      path: () => `/credentials/${child.credentialId}/rotate`,
      cases: [
        ['grace negative', { grace_period_seconds: -1 }],
        ['grace fraction', { grace_period_seconds: 1.5 }],
        ['grace string', { grace_period_seconds: '60' }],
        ['grace null', { grace_period_seconds: null }],
        ['grace beyond the maximum', { grace_period_seconds: 10 ** 12 }],
        ['unknown field', { scopes: ['agents:read'] }],
      ],
    },
    {
      name: 'POST /credentials/{id}/rotate with a bad id',
      method: 'post',
      path: () => `/credentials/${encodeURIComponent(SQL)}/rotate`,
      cases: [['SQL id', {}]],
    },
    {
      name: 'DELETE /credentials/{id} with a bad id',
      method: 'delete',
      path: () => '/credentials/not-a-uuid',
      cases: [['non-UUID id']],
    },
  ];

  for (const endpoint of endpoints) {
    it.each(endpoint.cases.map((c) => [c[0], c] as const))(
      `${endpoint.name}: %s → 4xx problem+json`,
      async (_name, c) => {
        const [, body, query] = c;
        let req = request(t.http)[endpoint.method](`${API}${endpoint.path()}`).set(root.auth);
        if (query) req = req.query(query);
        if (typeof body === 'string') req = req.set('Content-Type', 'application/json').send(body);
        else if (body !== undefined) req = req.send(body as object);
        const res = await req;
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({
          status: res.status,
          type: expect.stringMatching(/^urn:agentauth:problem:/),
        });
      },
    );
  }

  it('answers a wrong content type with 415', async () => {
    await request(t.http)
      .post(`${API}/agents`)
      .set(root.auth)
      .set('Content-Type', 'text/plain')
      .send('name=x')
      .expect(415);
    await request(t.http)
      .post(`${API}/credentials`)
      .set(root.auth)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('agent_id=x')
      .expect(415);
  });

  it('still has every table, and wrote nothing for the refused requests', async () => {
    const counts = await withDb(async (db) => {
      const agents = await db.query(`SELECT count(*)::int AS n FROM agents WHERE root_agent_id = $1`, [
        root.agent.id,
      ]);
      const credentials = await db.query(
        `SELECT count(*)::int AS n FROM credentials c JOIN agents a ON a.id = c.agent_id WHERE a.root_agent_id = $1`,
        [root.agent.id],
      );
      return { agents: agents.rows[0].n, credentials: credentials.rows[0].n };
    });
    expect(counts).toEqual({ agents: 2, credentials: 2 });
  });
});

import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { aKey, anAgent, API, aTree, type Caller } from '../../factories/agents';
import { aDelegation, type DelegationJson, delegationRows, fromNow, HOUR } from '../../factories/delegations';

const SQL = "'; DROP TABLE delegations;--";
const big = (n: number) => 'x'.repeat(n);

type Case = [name: string, body?: unknown, query?: Record<string, unknown>];

/** Bad input on every delegations endpoint answers 4xx problem+json, never 500, and writes nothing. */
describe('delegations: bad input never gets a 500', () => {
  let t: TestApp;
  let root: Caller;
  let child: Caller;
  let delegation: DelegationJson;
  let before: Record<string, unknown>[];

  beforeAll(async () => {
    t = await createTestApp();
    root = await aTree(t);
    child = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['agents:read'] }));
    delegation = await aDelegation(t, root, { delegate_agent_id: child.agent.id, scopes: ['agents:read'] });
    before = await delegationRows(root.agent.id);
  });
  afterAll(async () => {
    await t.close();
  });

  const valid = () => ({
    delegate_agent_id: child.agent.id,
    scopes: ['agents:read'],
    expires_at: fromNow(t, HOUR),
  });

  const createCases: [string, () => unknown][] = [
    ['no body', () => undefined],
    ['empty object', () => ({})],
    ['no delegate_agent_id', () => ({ ...valid(), delegate_agent_id: undefined })],
    ['delegate_agent_id not a UUID', () => ({ ...valid(), delegate_agent_id: 'me' })],
    ['delegate_agent_id SQL', () => ({ ...valid(), delegate_agent_id: SQL })],
    ['delegate_agent_id number', () => ({ ...valid(), delegate_agent_id: 5 })],
    ['delegate_agent_id null', () => ({ ...valid(), delegate_agent_id: null })],
    ['no scopes', () => ({ ...valid(), scopes: undefined })],
    ['scopes empty', () => ({ ...valid(), scopes: [] })],
    ['scopes string', () => ({ ...valid(), scopes: 'agents:read' })],
    ['scopes null', () => ({ ...valid(), scopes: null })],
    ['scope upper case', () => ({ ...valid(), scopes: ['Agents:Read'] })],
    ['bare wildcard scope', () => ({ ...valid(), scopes: ['*'] })],
    ['offline_access as a scope', () => ({ ...valid(), scopes: ['offline_access'] })],
    ['scope SQL', () => ({ ...valid(), scopes: [SQL] })],
    ['scope as object', () => ({ ...valid(), scopes: [{ a: 1 }] })],
    ['too many scopes', () => ({ ...valid(), scopes: Array.from({ length: 101 }, (_, i) => `s:${i}`) })],
    ['scope too long', () => ({ ...valid(), scopes: [`a:${big(200)}`] })],
    ['no expires_at', () => ({ ...valid(), expires_at: undefined })],
    ['expires_at null', () => ({ ...valid(), expires_at: null })],
    ['expires_at word', () => ({ ...valid(), expires_at: 'tomorrow' })],
    ['expires_at number', () => ({ ...valid(), expires_at: 1893456000 })],
    ['expires_at without zone', () => ({ ...valid(), expires_at: '2030-01-01T00:00:00' })],
    ['expires_at impossible date', () => ({ ...valid(), expires_at: '2030-02-30T00:00:00Z' })],
    ['expires_at far future', () => ({ ...valid(), expires_at: '+275760-09-13T00:00:00.000Z' })],
    ['expires_at year 9999', () => ({ ...valid(), expires_at: '9999-12-31T23:59:59Z' })],
    ['expires_at in the past', () => ({ ...valid(), expires_at: '2001-01-01T00:00:00Z' })],
    ['expires_at right now', () => ({ ...valid(), expires_at: fromNow(t, 0) })],
    ['parent_delegation_id not a UUID', () => ({ ...valid(), parent_delegation_id: 'parent' })],
    ['parent_delegation_id SQL', () => ({ ...valid(), parent_delegation_id: SQL })],
    ['parent_delegation_id null', () => ({ ...valid(), parent_delegation_id: null })],
    ['max_depth 0', () => ({ ...valid(), max_depth: 0 })],
    ['max_depth negative', () => ({ ...valid(), max_depth: -1 })],
    ['max_depth fraction', () => ({ ...valid(), max_depth: 1.5 })],
    ['max_depth string', () => ({ ...valid(), max_depth: '2' })],
    ['max_depth null', () => ({ ...valid(), max_depth: null })],
    ['max_depth beyond the global limit', () => ({ ...valid(), max_depth: 11 })],
    ['max_depth huge', () => ({ ...valid(), max_depth: 2 ** 53 })],
    ['unknown field', () => ({ ...valid(), delegator_agent_id: root.agent.id })],
    ['depth field', () => ({ ...valid(), depth: 1 })],
    ['status field', () => ({ ...valid(), status: 'active' })],
    ['array body', () => '[{}]'],
    ['string body', () => '"x"'],
    ['malformed JSON', () => '{"scopes": '],
  ];

  it.each(createCases)('POST /delegations: %s → 4xx problem+json', async (_name, body) => {
    const value = body();
    let req = request(t.http).post(`${API}/delegations`).set(root.auth);
    if (typeof value === 'string') req = req.set('Content-Type', 'application/json').send(value);
    else if (value !== undefined) req = req.send(value as object);
    expectProblem(await req);
  });

  const listCases: Case[] = [
    ['limit 0', undefined, { limit: 0 }],
    ['limit 201', undefined, { limit: 201 }],
    ['limit word', undefined, { limit: 'ten' }],
    ['status unknown', undefined, { status: 'expired' }],
    ['delegate_agent_id not a UUID', undefined, { delegate_agent_id: 'me' }],
    ['delegator_agent_id SQL', undefined, { delegator_agent_id: SQL }],
    ['original_delegator_id number', undefined, { original_delegator_id: 5 }],
    ['parent_delegation_id garbage', undefined, { parent_delegation_id: 'x' }],
    ['cursor garbage', undefined, { cursor: 'abc$' }],
    ['cursor not ours', undefined, { cursor: Buffer.from('{"t":"x","i":"y"}').toString('base64url') }],
    ['cursor too long', undefined, { cursor: big(600) }],
    ['unknown parameter', undefined, { root_agent_id: 'x' }],
  ];

  it.each(listCases)('GET /delegations: %s → 4xx problem+json', async (_name, _body, query) => {
    expectProblem(
      await request(t.http)
        .get(`${API}/delegations`)
        .query(query ?? {})
        .set(root.auth),
    );
  });

  it.each([
    ['GET', 'not-a-uuid'],
    ['GET', `${encodeURIComponent(SQL)}`],
    ['GET', 'not-a-uuid/chain'],
    ['DELETE', 'not-a-uuid'],
    ['DELETE', '00000000-0000-0000-0000-00000000000g'],
  ])('%s /delegations/%s → 400 problem+json', async (method, path) => {
    const agent = request(t.http);
    const url = `${API}/delegations/${path}`;
    const res = await (method === 'GET' ? agent.get(url) : agent.delete(url)).set(root.auth);
    expectProblem(res);
    expect(res.status).toBe(400);
  });

  it('refuses a wrong content type, and the refused requests wrote nothing', async () => {
    await request(t.http)
      .post(`${API}/delegations`)
      .set(root.auth)
      .set('Content-Type', 'text/plain')
      .send('scopes=agents:read')
      .expect(415);
    expect(await delegationRows(root.agent.id)).toEqual(before);
    expect(delegation.status).toBe('active');
  });

  function expectProblem(res: request.Response): void {
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: res.status,
      type: expect.stringMatching(/^urn:agentauth:problem:/),
    });
  }
});

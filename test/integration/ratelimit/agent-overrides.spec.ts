import request from 'supertest';
import { DataSource } from 'typeorm';
import { AgentRateLimitOverrides } from '@agentauth/agents';
import { Clock } from '@agentauth/core';
import { OVERRIDE_CACHE_TTL_MS, RATE_LIMIT_OVERRIDES } from '@agentauth/ratelimit';
import { createTestApp, type TestApp } from '../../support/app';
import { aChildCaller, API, aTree, type Caller } from '../../factories/agents';
import { treeSnapshot } from '../../factories/db';

const DEFAULT_LIMIT = 50;

/**
 * The per-agent override is a governed setting (docs/rate-limiting.md "Per-agent overrides"), read by the
 * real provider (AgentRateLimitOverrides) and enforced by the real guard, with real access tokens.
 */
describe('per-agent rate-limit overrides (governed, attenuated)', () => {
  let t: TestApp;
  let root: Caller;
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_AGENT_PER_MINUTE: String(DEFAULT_LIMIT) });
    root = await aTree(t);
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => t.app.get(Clock).reset());

  const listAgents = (caller: Caller) =>
    request(t.http).get(`${API}/agents`).query({ limit: 1 }).set(caller.auth);
  const setLimit = (caller: Caller, target: Caller, value: number | null) =>
    request(t.http)
      .patch(`${API}/agents/${target.agent.id}`)
      .set(caller.auth)
      .send({ rate_limit_per_minute: value });
  const manager = (parent: Caller) =>
    aChildCaller(t, parent, { allowed_scopes: ['agents:read', 'agents:write', 'credentials:write'] });

  it('the API wires the agents module’s provider', () => {
    expect(t.app.get(RATE_LIMIT_OVERRIDES)).toBeInstanceOf(AgentRateLimitOverrides);
  });

  it('an agent cannot set its own limit: refused, nothing written, the limit unchanged', async () => {
    const child = await manager(root);
    const before = await treeSnapshot(root.agent.id);
    const self = await setLimit(child, child, 10_000_000).expect(403);
    expect(self.body.type).toBe('urn:agentauth:problem:not_strict_ancestor');
    const viaMetadata = await request(t.http)
      .patch(`${API}/agents/${child.agent.id}`)
      .set(child.auth)
      .send({ metadata: { rate_limit_per_minute: 10_000_000 } })
      .expect(400);
    expect(viaMetadata.body.errors).toEqual([expect.objectContaining({ field: 'metadata' })]);
    expect(await treeSnapshot(root.agent.id)).toEqual(before);
    const res = await listAgents(child).expect(200);
    expect(res.headers['ratelimit-limit']).toBe(String(DEFAULT_LIMIT));
  });

  it('an ancestor sets 2: the third GET /agents of the child is 429', async () => {
    const child = await manager(root);
    const set = await setLimit(root, child, 2).expect(200);
    expect(set.body.rate_limit_per_minute).toBe(2);
    // The child's token request counted against its agent (issue 17): its limit was cached then, and the
    // request is in the window. A minute later both are gone.
    t.app.get(Clock).advance(Math.max(OVERRIDE_CACHE_TTL_MS, 60_000) + 1);
    const first = await listAgents(child).expect(200);
    expect(first.headers['ratelimit-limit']).toBe('2');
    await listAgents(child).expect(200);
    const limited = await listAgents(child).expect(429);
    expect(limited.body.type).toBe('urn:agentauth:problem:rate_limited');
    expect(limited.headers['ratelimit-limit']).toBe('2');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    // only the child: its parent keeps the default
    expect((await listAgents(root).expect(200)).headers['ratelimit-limit']).toBe(String(DEFAULT_LIMIT));
  });

  it("attenuates: a child's override never exceeds its parent's effective limit, and inherits it", async () => {
    const middle = await manager(root);
    await setLimit(root, middle, 10).expect(200);
    const leaf = await manager(middle);
    const before = await treeSnapshot(root.agent.id);
    const above = await setLimit(middle, leaf, 11).expect(403);
    expect(above.body.type).toBe('urn:agentauth:problem:rate_limit_escalation');
    const created = await request(t.http)
      .post(`${API}/agents`)
      .set(middle.auth)
      .send({ name: 'x', rate_limit_per_minute: 11 })
      .expect(403);
    expect(created.body.type).toBe('urn:agentauth:problem:rate_limit_escalation');
    expect(await treeSnapshot(root.agent.id)).toEqual(before);
    // no override of its own: the leaf gets its parent's 10
    expect((await listAgents(leaf).expect(200)).headers['ratelimit-limit']).toBe('10');
    await setLimit(middle, leaf, 10).expect(200);

    // an ancestor lowering a limit caps every descendant's, whatever they hold (after the provider's cache TTL)
    await setLimit(root, middle, 4).expect(200);
    t.app.get(Clock).advance(OVERRIDE_CACHE_TTL_MS);
    expect((await listAgents(leaf).expect(200)).headers['ratelimit-limit']).toBe('4');
  });

  it("a root's own limit is set by the operator only, and may exceed the default", async () => {
    const tree = await aTree(t);
    const child = await manager(tree);
    const operator = (id: string, body: Record<string, unknown>, key = t.config.adminApiKey) =>
      request(t.http).put(`${API}/agents/${id}/rate-limit`).set('X-Admin-Key', key).send(body);
    await setLimit(tree, tree, 500).expect(403); // not a strict ancestor of itself
    await request(t.http)
      .put(`${API}/agents/${tree.agent.id}/rate-limit`)
      .set(tree.auth)
      .send({ rate_limit_per_minute: 500 })
      .expect(401); // a Bearer token never opens an operator route
    await operator(tree.agent.id, { rate_limit_per_minute: 500 }, 'wrong').expect(401);

    const set = await operator(tree.agent.id, { rate_limit_per_minute: 500 }).expect(200);
    expect(set.body).toMatchObject({ id: tree.agent.id, rate_limit_per_minute: 500 });
    const events = await t.app
      .get(DataSource)
      .query(`SELECT outcome, root_agent_id, details FROM audit_events WHERE request_id = $1`, [
        set.headers['x-request-id'],
      ]);
    expect(events).toEqual([
      {
        outcome: 'success',
        root_agent_id: tree.agent.id,
        details: { rate_limit_per_minute: 500, by: 'operator' },
      },
    ]);
    t.app.get(Clock).advance(OVERRIDE_CACHE_TTL_MS); // the tree called before: its limit was cached
    expect((await listAgents(tree).expect(200)).headers['ratelimit-limit']).toBe('500');
    // the tree may now hand out up to 500, not more (for the operator either)
    await setLimit(tree, child, 400).expect(200);
    await operator(child.agent.id, { rate_limit_per_minute: 501 }).expect(403);
    await operator(child.agent.id, {}).expect(400);
    await operator(tree.agent.id, { rate_limit_per_minute: null }).expect(200);
  });
});

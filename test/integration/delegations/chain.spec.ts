import { managementResourceIdentifier } from '@agentauth/core';
import request from 'supertest';
import { TokenVerifier } from '@agentauth/keys';
import { isSubset } from '@agentauth/scopes';
import { createTestApp, type TestApp } from '../../support/app';
import { API, type Caller } from '../../factories/agents';
import { aDelegation, decodeJwt, type DelegationJson, fromNow, HOUR } from '../../factories/delegations';
import { aThreeHopChain, type ChainFixture } from './chain-fixture';

/** Issue 8: root → orchestrator → worker → ephemeral, each hop only narrowing. */
describe('a three-hop delegation chain', () => {
  let t: TestApp;
  let c: ChainFixture;

  beforeAll(async () => {
    t = await createTestApp();
    c = await aThreeHopChain(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const get = (caller: Caller, path: string) => request(t.http).get(`${API}${path}`).set(caller.auth);

  it('narrows scopes and expiry at every hop; depth counts hops; max_depth is inherited', () => {
    const { root, orchestrator, worker, ephemeral, d1, d2, d3 } = c;
    expect([d1, d2, d3].map((d) => [d.delegator_agent_id, d.delegate_agent_id])).toEqual([
      [root.agent.id, orchestrator.agent.id],
      [orchestrator.agent.id, worker.agent.id],
      [worker.agent.id, ephemeral.agent.id],
    ]);
    expect([d1, d2, d3].map((d) => d.parent_delegation_id)).toEqual([null, d1.id, d2.id]);
    expect([d1, d2, d3].map((d) => d.depth)).toEqual([1, 2, 3]);
    expect([d1, d2, d3].map((d) => d.max_depth)).toEqual([3, 3, 3]);
    expect([d1, d2, d3].map((d) => d.original_delegator_id)).toEqual(Array(3).fill(root.agent.id));
    expect([d1, d2, d3].every((d) => d.status === 'active' && d.root_agent_id === root.agent.id)).toBe(true);
    expect(isSubset(d2.scopes, d1.scopes) && d2.scopes.length < d1.scopes.length).toBe(true);
    expect(isSubset(d3.scopes, d2.scopes) && d3.scopes.length < d2.scopes.length).toBe(true);
    expect(Date.parse(d2.expires_at)).toBeLessThan(Date.parse(d1.expires_at));
    expect(Date.parse(d3.expires_at)).toBeLessThan(Date.parse(d2.expires_at));
  });

  it('hands the delegate a signed delegation+jwt naming the delegation, its delegator and scopes', async () => {
    const { d3, worker, ephemeral, root } = c;
    const token = d3.delegation_token as string;
    const { header, payload } = decodeJwt(token);
    expect(header).toEqual({ alg: 'RS256', typ: 'delegation+jwt', kid: expect.any(String) });
    const audience = `${t.config.publicBaseUrl}${t.config.apiPrefix}/auth/token`;
    expect(payload).toEqual({
      iss: t.config.publicBaseUrl,
      sub: ephemeral.agent.id,
      aud: audience,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      iat: expect.any(Number),
      nbf: expect.any(Number),
      exp: Math.floor(Date.parse(d3.expires_at) / 1000),
      delegation_id: d3.id,
      delegator_agent_id: worker.agent.id,
      original_delegator_id: root.agent.id,
      scope: 'agents:read delegations:write',
      depth: 3,
    });
    const verifier = t.app.get(TokenVerifier);
    await expect(verifier.verify(token, { typ: 'delegation+jwt', audience })).resolves.toBeDefined();
    // Never usable as an access token, nor at another audience.
    await expect(verifier.verify(token, { typ: 'at+jwt' })).rejects.toMatchObject({ reason: 'typ_mismatch' });
    await expect(
      verifier.verify(token, { typ: 'delegation+jwt', audience: managementResourceIdentifier(t.config) }),
    ).rejects.toMatchObject({ reason: 'wrong_audience' });
    // Each delegation has its own token id.
    const jtis = [c.d1, c.d2, c.d3].map((d) => decodeJwt(d.delegation_token as string).payload.jti);
    expect(new Set(jtis).size).toBe(3);
  });

  it('/chain lists the hops from the first delegator, the effective scopes and validity', async () => {
    const { d1, d2, d3 } = c;
    const res = await get(c.root, `/delegations/${d3.id}/chain`).expect(200);
    expect(res.body).toEqual({
      delegation_id: d3.id,
      original_delegator_id: c.root.agent.id,
      chain: [d1, d2, d3].map((d) => ({
        id: d.id,
        delegator_agent_id: d.delegator_agent_id,
        delegate_agent_id: d.delegate_agent_id,
        scopes: d.scopes,
        expires_at: d.expires_at,
        status: 'active',
        depth: d.depth,
      })),
      effective_scopes: ['agents:read', 'delegations:write'],
      valid: true,
      invalid_reason: null,
      expires_at: d3.expires_at,
    });
    const first = await get(c.root, `/delegations/${d1.id}/chain`).expect(200);
    expect(first.body.chain.map((h: { id: string }) => h.id)).toEqual([d1.id]);
    expect(first.body.effective_scopes).toEqual(d1.scopes);
  });

  it('shows a delegation and its chain to every party of the chain, and to nobody else', async () => {
    const { d1, d2, d3 } = c;
    const sees = async (caller: Caller, d: DelegationJson) =>
      (await get(caller, `/delegations/${d.id}`)).status === 200 &&
      (await get(caller, `/delegations/${d.id}/chain`)).status === 200;
    const matrix: [string, Caller, boolean[]][] = [
      ['root', c.root, [true, true, true]],
      ['orchestrator', c.orchestrator, [true, true, true]],
      ['worker', c.worker, [false, true, true]],
      ['ephemeral', c.ephemeral, [false, false, true]],
      ['sibling', c.sibling, [false, false, false]],
    ];
    for (const [name, caller, expected] of matrix) {
      const actual = [];
      for (const d of [d1, d2, d3]) actual.push(await sees(caller, d));
      expect({ name, actual }).toEqual({ name, actual: expected });
    }
    const one = await get(c.worker, `/delegations/${d2.id}`).expect(200);
    expect(one.body).toEqual(withoutToken(d2));
  });

  it('lists what the caller may see, filtered and paginated', async () => {
    const ids = async (caller: Caller, query: Record<string, unknown> = {}) =>
      (await get(caller, '/delegations').query(query).expect(200)).body.items.map(
        (d: DelegationJson) => d.id,
      );
    const { d1, d2, d3 } = c;
    expect(await ids(c.root)).toEqual([d1.id, d2.id, d3.id]);
    expect(await ids(c.worker)).toEqual([d2.id, d3.id]);
    expect(await ids(c.ephemeral)).toEqual([d3.id]);
    expect(await ids(c.sibling)).toEqual([]);
    expect(await ids(c.root, { delegate_agent_id: c.worker.agent.id })).toEqual([d2.id]);
    expect(await ids(c.root, { delegator_agent_id: c.worker.agent.id })).toEqual([d3.id]);
    expect(await ids(c.root, { parent_delegation_id: d1.id })).toEqual([d2.id]);
    expect(await ids(c.root, { original_delegator_id: c.root.agent.id })).toEqual([d1.id, d2.id, d3.id]);
    expect(await ids(c.root, { status: 'revoked' })).toEqual([]);

    const walked: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await get(c.root, '/delegations')
        .query({ limit: 1, ...(cursor ? { cursor } : {}) })
        .expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(1);
      walked.push(...page.body.items.map((d: DelegationJson) => d.id));
      cursor = page.body.next_cursor ?? undefined;
    } while (cursor);
    expect(walked).toEqual([d1.id, d2.id, d3.id]);
    const list = await get(c.root, '/delegations').expect(200);
    expect(list.body.items[0]).toEqual(withoutToken(d1));
    expect(JSON.stringify(list.body)).not.toContain('delegation_token');
  });

  it("computes effective scopes from the original delegator's current allowed_scopes", async () => {
    // A chain whose original delegator is the orchestrator, which its ancestor then narrows.
    const d = await aDelegation(t, c.orchestrator, {
      delegate_agent_id: c.sibling.agent.id,
      scopes: ['agents:read', 'policies:read'],
      expires_at: fromNow(t, HOUR),
    });
    await request(t.http)
      .patch(`${API}/agents/${c.orchestrator.agent.id}`)
      .set(c.root.auth)
      .send({ allowed_scopes: ['agents:read', 'credentials:read', 'delegations:read', 'delegations:write'] })
      .expect(200);
    const res = await get(c.sibling, `/delegations/${d.id}/chain`).expect(200);
    expect(res.body.chain[0].scopes).toEqual(['agents:read', 'policies:read']);
    expect(res.body.effective_scopes).toEqual(['agents:read']);
    expect(res.body.valid).toBe(true);
  });
});

function withoutToken(d: DelegationJson): Omit<DelegationJson, 'delegation_token'> {
  const { delegation_token: _token, ...rest } = d;
  return rest;
}

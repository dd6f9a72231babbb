import { managementResourceIdentifier } from '@agentauth/core';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import request from 'supertest';
import { Clock } from '@agentauth/core';
import { createTestApp, type TestApp } from '../../support/app';
import { logCapture } from '../../support/log-capture';
import { aKey, anAgent, API, aTree, bearer, claimsOf, withFreshToken } from '../../factories/agents';
import { auditEventsOf, withDb } from '../../factories/db';
import {
  aDelegation,
  decodeJwt,
  delegationRows,
  delegationStatuses,
  fromNow,
  HOUR,
  MINUTE,
} from '../../factories/delegations';
import { aPolicy } from '../../factories/policies';
import { exchangeToken, guardStatus, introspect, isActive } from '../auth/auth-helpers';
import { activePrivateKey } from '../keys/keys-helpers';
import { aThreeHopChain, type ChainFixture } from './chain-fixture';
import {
  aDelegatedToken,
  AGENT_DELEGATION_URN,
  delegationGrant,
  familiesOf,
  refreshGrant,
} from './grant-helpers';

const INVALID_GRANT = {
  error: 'invalid_grant',
  error_description: 'The delegation token is invalid, expired or revoked',
};

/**
 * The agent_delegation grant end to end (CONTRACT §4, §5, §6; issue 8 "Done when"), on the three-hop chain
 * root → orchestrator (d1) → worker (d2) → ephemeral (d3).
 */
describe('agent_delegation grant', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('mints the tail delegate a token acting for the original delegator, with the nested act chain', async () => {
    const c = await aThreeHopChain(t);
    const before = t.app.get(Clock).nowSeconds();
    const res = await delegationGrant(t, c.ephemeral, c.d3.delegation_token as string).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'agents:read delegations:write' });
    expect(res.body.refresh_token).toMatch(/^aa_rt_/);

    const { header, payload } = decodeJwt(res.body.access_token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(payload).toMatchObject({
      sub: c.root.agent.id,
      client_id: c.ephemeral.agent.id,
      delegation_id: c.d3.id,
      scope: 'agents:read delegations:write',
      aud: managementResourceIdentifier(t.config),
      // RFC 8693 §4.1: the current actor outermost, then the earlier delegates.
      act: {
        sub: c.ephemeral.agent.id,
        act: { sub: c.worker.agent.id, act: { sub: c.orchestrator.agent.id } },
      },
      agent: { trust_level: 'ephemeral', root_agent_id: c.root.agent.id },
    });
    expect(payload.act).toEqual({
      sub: c.ephemeral.agent.id,
      act: { sub: c.worker.agent.id, act: { sub: c.orchestrator.agent.id } },
    });
    const exp = payload.exp as number;
    expect(exp).toBeLessThanOrEqual(Math.floor(Date.parse(c.d3.expires_at) / 1000));
    expect(exp).toBeLessThanOrEqual(before + 1 + t.config.accessTokenExpireMinutes * 60);
    expect(res.body.expires_in).toBe(exp - (payload.iat as number));

    // The short alias is the same grant.
    const alias = await request(t.http)
      .post(`${API}/auth/token`)
      .type('form')
      .send({
        grant_type: 'agent_delegation',
        client_id: c.ephemeral.agent.id,
        client_secret: c.ephemeral.apiKey,
        delegation_token: c.d3.delegation_token,
      })
      .expect(200);
    expect(claimsOf(alias.body.access_token).sub).toBe(c.root.agent.id);

    // Introspection returns the claims with act intact; the management API accepts it, acting for root.
    const seen = await introspect(t, c.root, res.body.access_token).expect(200);
    expect(seen.body).toMatchObject({ active: true, token_type: 'Bearer', delegation_id: c.d3.id });
    expect(seen.body.act).toEqual(payload.act);
    const agents = await request(t.http)
      .get(`${API}/agents/${c.root.agent.id}`)
      .set(bearer(res.body.access_token));
    expect(agents.status).toBe(200);
    // The refresh token introspects with its delegation and act too.
    const rt = await introspect(t, c.root, res.body.refresh_token).expect(200);
    expect(rt.body).toMatchObject({
      active: true,
      token_type: 'refresh_token',
      sub: c.root.agent.id,
      client_id: c.ephemeral.agent.id,
      delegation_id: c.d3.id,
      act: payload.act,
    });
    expect(rt.body.exp).toBeLessThanOrEqual(Math.floor(Date.parse(c.d3.expires_at) / 1000));
  });

  it('each hop only narrows: the tokens of d1, d2, d3 carry ever narrower scopes and act chains', async () => {
    const c = await aThreeHopChain(t);
    const t1 = await aDelegatedToken(t, c.orchestrator, c.d1.delegation_token as string);
    const t2 = await aDelegatedToken(t, c.worker, c.d2.delegation_token as string);
    const t3 = await aDelegatedToken(t, c.ephemeral, c.d3.delegation_token as string);
    expect(t1.scope).toBe('agents:read delegations:read delegations:write policies:read');
    expect(t2.scope).toBe('agents:read delegations:read delegations:write');
    expect(t3.scope).toBe('agents:read delegations:write');
    expect(claimsOf(t1.accessToken).act).toEqual({ sub: c.orchestrator.agent.id });
    expect(claimsOf(t2.accessToken).act).toEqual({
      sub: c.worker.agent.id,
      act: { sub: c.orchestrator.agent.id },
    });
    for (const tok of [t1, t2, t3]) expect(claimsOf(tok.accessToken).sub).toBe(c.root.agent.id);
    // The ephemeral delegate's key holds no policies:read etc.; its key scopes are not the ceiling — the
    // delegation is. But nothing beyond the chain's effective scopes is ever granted.
    const families = await familiesOf([c.d1.id, c.d2.id, c.d3.id]);
    expect(families.map((f) => f.delegation_id)).toEqual([c.d1.id, c.d2.id, c.d3.id]);
  });

  it('a requested scope must be within the chain: a subset is granted, anything wider is invalid_scope', async () => {
    const c = await aThreeHopChain(t);
    const narrow = await aDelegatedToken(t, c.ephemeral, c.d3.delegation_token as string, {
      scope: 'agents:read offline_access',
    });
    expect(narrow.scope).toBe('agents:read');
    expect(narrow.refreshToken).toMatch(/^aa_rt_/);
    // policies:read is in d1 and d2 but not d3; credentials:read is in the ephemeral's own... nowhere.
    for (const scope of [
      'agents:read policies:read',
      'delegations:read',
      'agents:write',
      'credentials:read',
    ]) {
      const res = await delegationGrant(t, c.ephemeral, c.d3.delegation_token as string, { scope });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_scope');
    }
  });

  it('refuses every escalation with the same invalid_grant: someone else’s token, tampered, forged, another tree', async () => {
    const c = await aThreeHopChain(t);
    const d3 = c.d3.delegation_token as string;
    const other = await aTree(t);
    const [h, p, s] = d3.split('.');
    const payload = decodeJwt(d3).payload;
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { kid, privateKey } = await activePrivateKey(t);
    const cases: [string, { agent: { id: string }; apiKey: string }, string][] = [
      ['the delegator presenting its delegate’s token', c.worker, d3],
      ['a sibling presenting it', c.sibling, d3],
      ['the original delegator presenting it', c.root, d3],
      ['another tree’s client presenting it', other, d3],
      [
        'a tampered payload (wider scope)',
        c.ephemeral,
        `${h}.${b64({ ...payload, scope: 'agents:write' })}.${s}`,
      ],
      [
        'a tampered payload pointing at the parent delegation',
        c.ephemeral,
        `${h}.${b64({ ...payload, delegation_id: c.d1.id })}.${s}`,
      ],
      ['a tampered signature', c.ephemeral, `${h}.${p}.${s.slice(0, -4)}AAAA`],
      [
        'a forged token (stranger key, known kid)',
        c.ephemeral,
        await new SignJWT(payload)
          .setProtectedHeader({ alg: 'RS256', kid, typ: 'delegation+jwt' })
          .sign(stranger.privateKey),
      ],
      [
        // Signed with the real key (as an attacker holding it would): the row's token_jti does not match.
        'a well-signed token naming the parent delegation',
        c.ephemeral,
        await new SignJWT({ ...payload, delegation_id: c.d2.id })
          .setProtectedHeader({ alg: 'RS256', kid, typ: 'delegation+jwt' })
          .sign(privateKey),
      ],
      ['an access token instead of a delegation token', c.ephemeral, c.ephemeral.accessToken],
      ['garbage', c.ephemeral, 'not.a.jwt'],
    ];
    for (const [what, holder, token] of cases) {
      const res = await delegationGrant(t, holder, token);
      expect({ what, status: res.status, body: res.body }).toEqual({
        what,
        status: 400,
        body: INVALID_GRANT,
      });
    }
    // The reason goes to the audit trail, never to the client.
    const refused = await delegationGrant(t, c.worker, d3).expect(400);
    const [event] = await auditEventsOf(refused.headers['x-request-id']);
    expect(event).toMatchObject({ event_type: 'token.issue_failed', actor_agent_id: c.worker.agent.id });
    expect(event.details).toMatchObject({ error: 'invalid_grant', cause: 'not_delegate' });
    // A missing delegation_token is a malformed request.
    const missing = await request(t.http)
      .post(`${API}/auth/token`)
      .type('form')
      .send({
        grant_type: AGENT_DELEGATION_URN,
        client_id: c.ephemeral.agent.id,
        client_secret: c.ephemeral.apiKey,
      })
      .expect(400);
    expect(missing.body.error).toBe('invalid_request');
  });

  it('audits delegation.used and token.issued (grant_type agent_delegation; its refreshes name the delegation), and never logs or stores a token', async () => {
    const c = await aThreeHopChain(t);
    const res = await delegationGrant(t, c.ephemeral, c.d3.delegation_token as string).expect(200);
    const events = await auditEventsOf(res.headers['x-request-id']);
    const used = events.find((e) => e.event_type === 'delegation.used');
    const issued = events.find((e) => e.event_type === 'token.issued');
    const jti = claimsOf(res.body.access_token).jti;
    expect(used).toMatchObject({
      outcome: 'success',
      actor_agent_id: c.ephemeral.agent.id,
      on_behalf_of: c.root.agent.id,
      root_agent_id: c.root.agent.id,
      target_type: 'delegation',
      target_id: c.d3.id,
    });
    expect((used as { details: Record<string, unknown> }).details).toMatchObject({
      delegation_ids: [c.d1.id, c.d2.id, c.d3.id],
      depth: 3,
      jti,
    });
    expect(issued).toMatchObject({ actor_agent_id: c.ephemeral.agent.id, on_behalf_of: c.root.agent.id });
    expect((issued as { details: Record<string, unknown> }).details).toMatchObject({
      grant_type: 'agent_delegation',
      delegation_id: c.d3.id,
      jti,
    });
    // A refresh of the delegated family names the delegation too.
    const refreshed = await refreshGrant(t, c.ephemeral, res.body.refresh_token).expect(200);
    expect(await auditEventsOf(refreshed.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'token.issued',
        actor_agent_id: c.ephemeral.agent.id,
        on_behalf_of: c.root.agent.id,
        details: expect.objectContaining({
          grant_type: 'refresh_token',
          delegation_id: c.d3.id,
          family_id: claimsOf(res.body.access_token).fam,
          jti: claimsOf(refreshed.body.access_token).jti,
        }),
      }),
    ]);
    for (const secret of [
      res.body.access_token,
      res.body.refresh_token,
      refreshed.body.refresh_token,
      c.d3.delegation_token as string,
    ]) {
      expect(logCapture.containing(secret)).toEqual([]);
    }
    const metrics = await request(t.http).get('/metrics');
    if (metrics.status === 200) expect(metrics.text).toMatch(/grant_type="agent_delegation"/);
  });

  it('policies: evaluated for the original delegator and for the actor, with delegation_depth', async () => {
    const c = await aThreeHopChain(t);
    // A deny naming the actor (the ephemeral delegate) on agents:read, and a depth-conditioned deny.
    await aPolicy(t, c.root, {
      name: 'no agents:read for the ephemeral one',
      subjects: [c.ephemeral.agent.id],
      actions: ['agents:read'],
    });
    const dropped = await aDelegatedToken(t, c.ephemeral, c.d3.delegation_token as string);
    expect(dropped.scope).toBe('delegations:write');
    const explicit = await delegationGrant(t, c.ephemeral, c.d3.delegation_token as string, {
      scope: 'agents:read',
    }).expect(400);
    expect(explicit.body.error).toBe('invalid_scope');
    // The orchestrator, not named, keeps agents:read.
    expect((await aDelegatedToken(t, c.orchestrator, c.d1.delegation_token as string)).scope).toContain(
      'agents:read',
    );

    // `max_delegation_depth` holds when delegation_depth ≤ N (docs/policies.md): this deny, for the original
    // delegator, strikes chains of depth ≤ 2 only — so the grant passes the chain's depth (d2: 2, d3: 3).
    await aPolicy(t, c.root, {
      name: 'shallow chains may not write delegations',
      subjects: [c.root.agent.id],
      actions: ['delegations:write'],
      conditions: { max_delegation_depth: 2 },
    });
    const shallow = await aDelegatedToken(t, c.worker, c.d2.delegation_token as string);
    const deep = await aDelegatedToken(t, c.ephemeral, c.d3.delegation_token as string);
    expect(shallow.scope).toBe('agents:read delegations:read');
    expect(deep.scope).toBe('delegations:write');
    // Every refresh asks the policies again.
    await request(t.http)
      .post(`${API}/policies`)
      .set(c.root.auth)
      .send({
        name: 'no reading at all',
        effect: 'deny',
        subjects: [c.root.agent.id],
        actions: ['agents:read'],
      })
      .expect(201);
    const refreshed = await refreshGrant(t, c.worker, shallow.refreshToken).expect(200);
    expect(refreshed.body.scope).toBe('delegations:read');
  });

  it('revoking the MIDDLE delegation kills the tail’s delegations, access tokens and refresh families; a sibling chain lives', async () => {
    const c = await aThreeHopChain(t);
    // A sibling chain under d1: orchestrator → sibling.
    const d2b = await aDelegation(t, c.orchestrator, {
      delegate_agent_id: c.sibling.agent.id,
      parent_delegation_id: c.d1.id,
      scopes: ['agents:read'],
    });
    const tail = await aDelegatedToken(t, c.ephemeral, c.d3.delegation_token as string);
    const middle = await aDelegatedToken(t, c.worker, c.d2.delegation_token as string);
    const sib = await aDelegatedToken(t, c.sibling, d2b.delegation_token as string);
    const top = await aDelegatedToken(t, c.orchestrator, c.d1.delegation_token as string);
    for (const tok of [tail, middle, sib, top]) expect(await isActive(t, c.root, tok.accessToken)).toBe(true);

    const res = await request(t.http).delete(`${API}/delegations/${c.d2.id}`).set(c.root.auth).expect(200);
    expect(res.body.revoked_delegation_ids).toEqual([c.d2.id, c.d3.id]);
    expect(await delegationStatuses([c.d2.id, c.d3.id, d2b.id, c.d1.id])).toEqual({
      [c.d2.id]: { status: 'revoked', reason: 'revoked' },
      [c.d3.id]: { status: 'revoked', reason: 'parent_revoked' },
      [d2b.id]: { status: 'active', reason: null },
      [c.d1.id]: { status: 'active', reason: null },
    });

    for (const tok of [tail, middle]) {
      expect((await introspect(t, c.root, tok.accessToken).expect(200)).body).toEqual({ active: false });
      expect(await guardStatus(t, tok.accessToken)).toBe(401);
      expect((await introspect(t, c.root, tok.refreshToken).expect(200)).body).toEqual({ active: false });
    }
    expect((await refreshGrant(t, c.ephemeral, tail.refreshToken).expect(400)).body.error).toBe(
      'invalid_grant',
    );
    expect((await refreshGrant(t, c.worker, middle.refreshToken).expect(400)).body.error).toBe(
      'invalid_grant',
    );
    expect(await delegationGrant(t, c.ephemeral, c.d3.delegation_token as string).expect(400)).toBeTruthy();
    const families = await familiesOf([c.d2.id, c.d3.id]);
    expect(families).toHaveLength(2);
    for (const f of families)
      expect(f).toMatchObject({ status: 'revoked', revoked_reason: 'delegation_revoked' });

    // Untouched: the sibling chain and the first hop — tokens, refresh, new grants.
    for (const tok of [sib, top]) {
      expect(await isActive(t, c.root, tok.accessToken)).toBe(true);
      expect(await guardStatus(t, tok.accessToken)).toBe(200);
    }
    const rotated = await refreshGrant(t, c.sibling, sib.refreshToken).expect(200);
    expect(claimsOf(rotated.body.access_token)).toMatchObject({
      sub: c.root.agent.id,
      delegation_id: d2b.id,
    });
    await refreshGrant(t, c.orchestrator, top.refreshToken).expect(200);
    await delegationGrant(t, c.sibling, d2b.delegation_token as string).expect(200);
  });

  it('suspending a middle delegate kills the tokens minted through it (act.sub markers) until a new grant after re-activation', async () => {
    const c = await aThreeHopChain(t);
    const tail = await aDelegatedToken(t, c.ephemeral, c.d3.delegation_token as string);
    const suspend = (status: string) =>
      request(t.http)
        .patch(`${API}/agents/${c.worker.agent.id}`)
        .set(c.root.auth)
        .send({ status })
        .expect(200);
    await suspend('suspended');
    // The token dies; the refresh (chain re-check) and a new grant are refused while it lasts.
    expect((await introspect(t, c.root, tail.accessToken).expect(200)).body).toEqual({ active: false });
    expect((await refreshGrant(t, c.ephemeral, tail.refreshToken)).status).not.toBe(200);
    expect((await delegationGrant(t, c.ephemeral, c.d3.delegation_token as string)).status).not.toBe(200);
    await suspend('active');
    expect(await isActive(t, c.root, tail.accessToken)).toBe(false); // never revived
    const again = await aDelegatedToken(t, c.ephemeral, c.d3.delegation_token as string);
    expect(await isActive(t, c.root, again.accessToken)).toBe(true);
  });

  it('suspending an intermediate delegate that is NOT an ancestor of the client kills the tail token (act.sub is checked)', async () => {
    // root → a (d1) → b (d2) → c (d3), with a, b, c siblings under root: suspending b touches neither
    // sub (root) nor client_id (c) — only act carries b.
    const root = await aTree(t);
    const peer = async (name: string) =>
      aKey(t, root, await anAgent(t, root, { name, allowed_scopes: ['agents:read', 'delegations:write'] }));
    const a = await peer('a');
    const b = await peer('b');
    const cc = await peer('c');
    const d1 = await aDelegation(t, root, {
      delegate_agent_id: a.agent.id,
      scopes: ['agents:read', 'delegations:write'],
      expires_at: fromNow(t, 3 * HOUR),
    });
    const aAct = await withFreshToken(t, a);
    const aTok = await aDelegatedToken(t, aAct, d1.delegation_token as string);
    const d2 = await aDelegation(
      t,
      { ...a, accessToken: aTok.accessToken, auth: bearer(aTok.accessToken), credentialId: '' },
      {
        delegate_agent_id: b.agent.id,
        parent_delegation_id: d1.id,
        scopes: ['agents:read', 'delegations:write'],
        expires_at: fromNow(t, 2 * HOUR),
      },
    );
    const d3 = await aDelegation(t, b, {
      delegate_agent_id: cc.agent.id,
      parent_delegation_id: d2.id,
      scopes: ['agents:read'],
      expires_at: fromNow(t, HOUR),
    });
    const tail = await aDelegatedToken(t, cc, d3.delegation_token as string);
    expect(claimsOf(tail.accessToken).act).toEqual({
      sub: cc.agent.id,
      act: { sub: b.agent.id, act: { sub: a.agent.id } },
    });
    expect(await isActive(t, root, tail.accessToken)).toBe(true);
    await request(t.http)
      .patch(`${API}/agents/${b.agent.id}`)
      .set(root.auth)
      .send({ status: 'suspended' })
      .expect(200);
    expect((await introspect(t, root, tail.accessToken).expect(200)).body).toEqual({ active: false });
    expect(await guardStatus(t, tail.accessToken)).toBe(401);
    const refused = await refreshGrant(t, cc, tail.refreshToken).expect(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect((await introspect(t, root, tail.refreshToken).expect(200)).body).toEqual({ active: false });
    await delegationGrant(t, cc, d3.delegation_token as string).expect(400);
  });

  it('deactivating the middle delegate revokes the tail’s delegations and refresh families', async () => {
    const c = await aThreeHopChain(t);
    const tail = await aDelegatedToken(t, c.ephemeral, c.d3.delegation_token as string);
    const top = await aDelegatedToken(t, c.orchestrator, c.d1.delegation_token as string);
    await request(t.http)
      .delete(`${API}/agents/${c.sibling.agent.id}`)
      .set(c.root.auth)
      .expect((r) => {
        if (r.status >= 300) throw new Error(`deactivate: ${r.status}`);
      });
    // A sibling's deactivation touches nothing of this chain.
    expect(await isActive(t, c.root, tail.accessToken)).toBe(true);
    await request(t.http)
      .delete(`${API}/agents/${c.worker.agent.id}`)
      .set(c.root.auth)
      .expect((r) => {
        if (r.status >= 300) throw new Error(`deactivate: ${r.status}`);
      });
    const families = await familiesOf([c.d3.id]);
    expect(families).toEqual([expect.objectContaining({ status: 'revoked' })]);
    expect(await isActive(t, c.root, tail.accessToken)).toBe(false);
    expect(await isActive(t, c.root, top.accessToken)).toBe(true);
    await refreshGrant(t, c.orchestrator, top.refreshToken).expect(200);
  });
});

/** CONTRACT §5 with REAL delegated tokens: no credential writes; delegations only by re-delegating its own. */
describe('agent_delegation tokens and CONTRACT §5', () => {
  let t: TestApp;
  let c: ChainFixture;
  beforeAll(async () => {
    t = await createTestApp();
    c = await aThreeHopChain(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const credentialRows = () =>
    withDb(
      async (db) => (await db.query(`SELECT id, status, rotated_to_id FROM credentials ORDER BY id`)).rows,
    );

  it('a delegated token holding credentials:write cannot create, rotate or revoke credentials (403, nothing written)', async () => {
    const dc = await aDelegation(t, c.root, {
      delegate_agent_id: c.orchestrator.agent.id,
      scopes: ['credentials:read', 'credentials:write', 'agents:read'],
      expires_at: fromNow(t, HOUR),
    });
    const tok = await aDelegatedToken(t, c.orchestrator, dc.delegation_token as string);
    expect(tok.scope).toBe('agents:read credentials:read credentials:write');
    const auth = bearer(tok.accessToken);
    const before = await credentialRows();
    const attempts = [
      request(t.http).post(`${API}/credentials`).set(auth).send({ agent_id: c.worker.agent.id }),
      request(t.http).post(`${API}/credentials`).set(auth).send({}),
      request(t.http).post(`${API}/credentials/${c.worker.credentialId}/rotate`).set(auth).send({}),
      request(t.http).delete(`${API}/credentials/${c.worker.credentialId}`).set(auth),
    ];
    for (const attempt of attempts) {
      const res = await attempt;
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/act_not_allowed$/);
    }
    expect(await credentialRows()).toEqual(before);
    // It can read them (credentials:read): the refusal is the act rule, not a scope problem.
    await request(t.http).get(`${API}/credentials`).set(auth).expect(200);
  });

  it('a delegated token re-delegates its own delegation_id only', async () => {
    const tok = await aDelegatedToken(t, c.worker, c.d2.delegation_token as string);
    const auth = bearer(tok.accessToken);
    const post = (body: Record<string, unknown>) =>
      request(t.http)
        .post(`${API}/delegations`)
        .set(auth)
        .send({
          delegate_agent_id: c.sibling.agent.id,
          scopes: ['agents:read'],
          expires_at: fromNow(t, 30 * MINUTE),
          ...body,
        });
    const count = () =>
      withDb(async (db) => Number((await db.query(`SELECT count(*) FROM delegations`)).rows[0].count));
    const before = await count();
    for (const body of [{}, { parent_delegation_id: c.d1.id }, { parent_delegation_id: c.d3.id }]) {
      const res = await post(body);
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/act_not_allowed$/);
    }
    expect(await count()).toBe(before);
    const ok = await post({ parent_delegation_id: c.d2.id }).expect(201);
    expect(ok.body).toMatchObject({
      delegator_agent_id: c.worker.agent.id,
      original_delegator_id: c.root.agent.id,
      parent_delegation_id: c.d2.id,
      depth: 3,
    });
    // And its delegate can use it.
    const next = await aDelegatedToken(t, c.sibling, ok.body.delegation_token);
    expect(claimsOf(next.accessToken).act).toEqual({
      sub: c.sibling.agent.id,
      act: { sub: c.worker.agent.id, act: { sub: c.orchestrator.agent.id } },
    });
  });

  it('an exchanged token (act, no delegation_id) creates no delegation at all (403, nothing written)', async () => {
    // The root exchanges its own token (only a token's own client may, CONTRACT §4): act = root,
    // delegations:write held.
    const exchanged = await exchangeToken(t, c.root, c.root.accessToken).expect(200);
    const claims = claimsOf(exchanged.body.access_token);
    expect(claims).toMatchObject({ sub: c.root.agent.id, act: { sub: c.root.agent.id } });
    expect(claims.delegation_id).toBeUndefined();
    expect(claims.scope).toContain('delegations:write');
    const before = await delegationRows(c.root.agent.id);
    for (const parent of [{}, { parent_delegation_id: c.d1.id }]) {
      const res = await request(t.http)
        .post(`${API}/delegations`)
        .set(bearer(exchanged.body.access_token))
        .send({
          delegate_agent_id: c.sibling.agent.id,
          scopes: ['agents:read'],
          expires_at: fromNow(t, 30 * MINUTE),
          ...parent,
        });
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.type).toBe('urn:agentauth:problem:act_not_allowed');
    }
    expect(await delegationRows(c.root.agent.id)).toEqual(before);
  });

  it('discovery lists the grant', async () => {
    const res = await request(t.http).get('/.well-known/oauth-authorization-server').expect(200);
    expect(res.body.grant_types_supported).toEqual(
      expect.arrayContaining([AGENT_DELEGATION_URN, 'agent_delegation']),
    );
  });
});

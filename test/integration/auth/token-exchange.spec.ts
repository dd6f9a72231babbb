import request from 'supertest';
import { Clock, managementResourceIdentifier } from '@agentauth/core';
import { createTestApp, type TestApp } from '../../support/app';
import {
  aKey,
  anAgent,
  API,
  aTree,
  basicAuth,
  bearer,
  type Caller,
  requestToken,
} from '../../factories/agents';
import { auditEventsOf } from '../../factories/db';
import { aPolicy } from '../../factories/policies';
import { aResourceServer, type ResourceServerJson } from '../../factories/resource-servers';
import { aScope } from '../../factories/scopes';
import { aThreeHopChain } from '../delegations/chain-fixture';
import { aDelegatedToken } from '../delegations/grant-helpers';
import {
  ACCESS_TOKEN_TYPE,
  claimsOf,
  exchangeToken,
  guardStatus,
  introspect,
  isActive,
  revokeToken,
  TOKEN_EXCHANGE_GRANT,
} from './auth-helpers';

const SCOPES = ['agents:read', 'agents:write', 'credentials:read', 'credentials:write'];
const FILES = ['files:delete', 'files:read', 'files:write'];

describe('token exchange (RFC 8693)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  interface Cast {
    root: Caller;
    subject: Caller;
    actor: Caller;
    second: Caller;
    /** The resource server `actor` authenticates as (it may exchange its tokens: CONTRACT §4, §8). */
    svc: ResourceServerJson;
    /** A downstream server `second` authenticates as. */
    svc2: ResourceServerJson;
    /** A token of `subject` for `svc` (every files scope). */
    subjectToken: string;
  }

  /**
   * A root, a user-like agent (the subject) and two service agents (actors) in the same tree, each actor
   * the agent of a resource server: only they (and the subject token's own client) may exchange its tokens.
   */
  async function cast(): Promise<Cast> {
    const root = await aTree(t);
    for (const name of FILES) await aScope(t, root, name);
    const subject = await aKey(t, root, await anAgent(t, root, { allowed_scopes: [...SCOPES, ...FILES] }));
    const actor = await aKey(
      t,
      root,
      await anAgent(t, root, { allowed_scopes: ['files:read', 'files:write'] }),
    );
    const second = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['files:read'] }));
    const svc = await aResourceServer(t, root, { scopes: FILES, agent_id: actor.agent.id });
    const svc2 = await aResourceServer(t, root, { scopes: ['files:read'], agent_id: second.agent.id });
    const subjectToken = (await requestToken(t, subject, { resource: svc.identifier }).expect(200)).body
      .access_token as string;
    return { root, subject, actor, second, svc, svc2, subjectToken };
  }

  it("issues a token for the subject, acted by the subject token's resource server: attenuated, bounded, with act", async () => {
    const { root, subject, actor, svc, subjectToken } = await cast();
    const res = await exchangeToken(t, actor, subjectToken, { scope: 'files:read' }).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: expect.any(Number),
      scope: 'files:read',
    });
    expect(res.body.refresh_token).toBeUndefined();
    const claims = claimsOf(res.body.access_token);
    const subjectClaims = claimsOf(subjectToken);
    expect(claims).toMatchObject({
      sub: subject.agent.id,
      client_id: actor.agent.id,
      act: { sub: actor.agent.id },
      aud: svc.identifier,
      scope: 'files:read',
      cid: actor.credentialId,
      agent: { trust_level: 'delegated', root_agent_id: root.agent.id },
    });
    expect(claims.exp).toBeLessThanOrEqual(subjectClaims.exp);
    expect(claims.subject_refs).toEqual(
      expect.arrayContaining([
        `jti:${subjectClaims.jti}`,
        `credential:${subject.credentialId}`,
        `agent:${subject.agent.id}`,
        `resource_server:${svc.id}`,
      ]),
    );
    // introspection returns act intact
    const introspected = await introspect(t, root, res.body.access_token).expect(200);
    expect(introspected.body).toMatchObject({
      active: true,
      act: { sub: actor.agent.id },
      sub: subject.agent.id,
      aud: svc.identifier,
    });
    // the audit trail names the actor and on whose behalf
    expect(await auditEventsOf(res.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'token.issued',
        actor_agent_id: actor.agent.id,
        on_behalf_of: subject.agent.id,
        details: expect.objectContaining({
          grant_type: TOKEN_EXCHANGE_GRANT,
          subject_jti: subjectClaims.jti,
          act_depth: 1,
        }),
      }),
    ]);
    // a token for a resource server never opens the management API
    expect(await guardStatus(t, res.body.access_token)).toBe(401);
  });

  it("refuses every other agent, in the tree or not (invalid_grant); the subject token's own client may", async () => {
    const { root, subject, second, svc, subjectToken } = await cast();
    // second is another server's agent: not this token's, so no more than any agent of the tree.
    const bystander = await aKey(t, root, await anAgent(t, root, { allowed_scopes: [...SCOPES, ...FILES] }));
    const foreign = await aTree(t);
    for (const caller of [second, bystander, foreign]) {
      const res = await exchangeToken(t, caller, subjectToken).expect(400);
      expect(res.body.error).toBe('invalid_grant');
    }
    // The management API's tokens: only their own client exchanges them (no resource server agent there).
    const management = (await requestToken(t, subject, { scope: 'agents:read' }).expect(200)).body
      .access_token as string;
    expect((await exchangeToken(t, bystander, management).expect(400)).body.error).toBe('invalid_grant');
    const own = await exchangeToken(t, subject, management).expect(200);
    expect(claimsOf(own.body.access_token)).toMatchObject({
      sub: subject.agent.id,
      act: { sub: subject.agent.id },
    });
    const ownForSvc = await exchangeToken(t, subject, subjectToken, { scope: 'files:delete' }).expect(200);
    expect(claimsOf(ownForSvc.body.access_token).aud).toBe(svc.identifier);
  });

  it('nests act over two exchanges (the outermost is the current actor)', async () => {
    const { root, subject, actor, second, svc2, subjectToken } = await cast();
    // actor calls svc2 on the subject's behalf; svc2's agent exchanges again (for itself, downstream).
    const once = (await exchangeToken(t, actor, subjectToken, { resource: svc2.identifier }).expect(200)).body
      .access_token as string;
    expect(claimsOf(once).scope).toBe('files:read');
    const twice = await exchangeToken(t, second, once).expect(200);
    const claims = claimsOf(twice.body.access_token);
    expect(claims).toMatchObject({
      sub: subject.agent.id,
      client_id: second.agent.id,
      act: { sub: second.agent.id, act: { sub: actor.agent.id } },
      scope: 'files:read',
      aud: svc2.identifier,
    });
    expect(claims.exp).toBeLessThanOrEqual(claimsOf(once).exp);
    const introspected = await introspect(t, root, twice.body.access_token).expect(200);
    expect(introspected.body.act).toEqual({ sub: second.agent.id, act: { sub: actor.agent.id } });
  });

  it('refuses escalation with invalid_scope: beyond the subject token, beyond the actor', async () => {
    const { subject, actor, svc, subjectToken } = await cast();
    const narrowSubject = (
      await requestToken(t, subject, { resource: svc.identifier, scope: 'files:read' }).expect(200)
    ).body.access_token;
    const beyondSubject = await exchangeToken(t, actor, narrowSubject, { scope: 'files:write' }).expect(400);
    expect(beyondSubject.body.error).toBe('invalid_scope');
    // the subject holds files:delete, the actor may not
    const beyondActor = await exchangeToken(t, actor, subjectToken, { scope: 'files:delete' }).expect(400);
    expect(beyondActor.body.error).toBe('invalid_scope');
    // default: the intersection
    const dflt = await exchangeToken(t, actor, subjectToken).expect(200);
    expect(dflt.body.scope).toBe('files:read files:write');
  });

  it('evaluates the policies for the actor: a deny naming the actor drops the scope, or refuses it when asked', async () => {
    const { root, subject, actor, svc, subjectToken } = await cast();
    // The subject holds files:write and the actor's allowed_scopes include it: only the policy can refuse.
    await aPolicy(t, root, {
      name: 'the actor may not write files',
      subjects: [actor.agent.id],
      actions: ['files:write'],
    });
    const dflt = await exchangeToken(t, actor, subjectToken).expect(200);
    expect(dflt.body.scope).toBe('files:read');
    const explicit = await exchangeToken(t, actor, subjectToken, { scope: 'files:write' }).expect(400);
    expect(explicit.body.error).toBe('invalid_scope');
    // The deny names the actor only: the subject's own grant keeps files:write.
    expect(
      (await requestToken(t, subject, { resource: svc.identifier, scope: 'files:write' }).expect(200)).body
        .scope,
    ).toBe('files:write');
  });

  it("refuses another tree's subject token, and expired or revoked subjects (invalid_grant)", async () => {
    const { subject, actor, svc, subjectToken } = await cast();
    const foreign = await aTree(t);
    const other = await exchangeToken(t, actor, foreign.accessToken).expect(400);
    expect(other.body).toEqual({
      error: 'invalid_grant',
      error_description: 'The subject token is invalid, expired or revoked',
    });
    const clock = t.app.get(Clock);
    try {
      clock.advance(claimsOf(subjectToken).exp * 1000 - clock.nowMs());
      const expired = await exchangeToken(t, actor, subjectToken).expect(400);
      expect(expired.body).toEqual(other.body);
    } finally {
      clock.reset();
    }
    const victim = (await requestToken(t, subject, { resource: svc.identifier }).expect(200)).body
      .access_token;
    await revokeToken(t, subject, victim).expect(200);
    expect((await exchangeToken(t, actor, victim).expect(400)).body).toEqual(other.body);
    for (const junk of ['garbage', `${victim}x`]) {
      expect((await exchangeToken(t, actor, junk).expect(400)).body).toEqual(other.body);
    }
  });

  it("dies with its subject: the subject's credential revoked → the exchanged token is inactive", async () => {
    const { root, subject, actor, second, svc2, subjectToken } = await cast();
    const once = (await exchangeToken(t, actor, subjectToken, { resource: svc2.identifier }).expect(200)).body
      .access_token as string;
    const twice = (await exchangeToken(t, second, once).expect(200)).body.access_token as string;
    expect(await isActive(t, root, once)).toBe(true);
    await request(t.http).delete(`${API}/credentials/${subject.credentialId}`).set(root.auth).expect(200);
    for (const token of [once, twice]) {
      expect((await introspect(t, root, token).expect(200)).body).toEqual({ active: false });
    }
  });

  it("dies with its subject token's jti and with its subject's agent", async () => {
    const { root, subject, actor, svc } = await cast();
    const subjectToken = (await requestToken(t, subject, { resource: svc.identifier }).expect(200)).body
      .access_token as string;
    const byJti = (await exchangeToken(t, actor, subjectToken).expect(200)).body.access_token as string;
    await revokeToken(t, subject, subjectToken).expect(200);
    expect(await isActive(t, root, byJti)).toBe(false);

    const fresh = (await requestToken(t, subject, { resource: svc.identifier }).expect(200)).body
      .access_token as string;
    const byAgent = (await exchangeToken(t, actor, fresh).expect(200)).body.access_token as string;
    await request(t.http)
      .patch(`${API}/agents/${subject.agent.id}`)
      .set(root.auth)
      .send({ status: 'suspended' })
      .expect(200);
    expect(await isActive(t, root, byAgent)).toBe(false);
  });

  it('dies with the refresh family of its subject', async () => {
    const { root, subject, actor, svc } = await cast();
    const grant = await requestToken(t, subject, {
      resource: svc.identifier,
      scope: 'files:read offline_access',
    }).expect(200);
    const exchanged = (await exchangeToken(t, actor, grant.body.access_token).expect(200)).body
      .access_token as string;
    await revokeToken(t, subject, grant.body.refresh_token).expect(200);
    expect(await isActive(t, root, exchanged)).toBe(false);
  });

  it('dies with the delegation of its subject: DELETE /delegations/{id} → the exchanged token is inactive', async () => {
    const c = await aThreeHopChain(t);
    const delegated = await aDelegatedToken(t, c.ephemeral, c.d3.delegation_token as string);
    // The delegated token's own client (the ephemeral delegate) exchanges it; the sibling may not.
    expect((await exchangeToken(t, c.sibling, delegated.accessToken).expect(400)).body.error).toBe(
      'invalid_grant',
    );
    const exchanged = (await exchangeToken(t, c.ephemeral, delegated.accessToken).expect(200)).body
      .access_token as string;
    expect(claimsOf(exchanged)).toMatchObject({ sub: c.root.agent.id, delegation_id: c.d3.id });
    expect(await isActive(t, c.root, exchanged)).toBe(true);
    await request(t.http).delete(`${API}/delegations/${c.d3.id}`).set(c.worker.auth).expect(200);
    expect((await introspect(t, c.root, exchanged).expect(200)).body).toEqual({ active: false });
    expect(await guardStatus(t, exchanged)).toBe(401);
  });

  it('keeps the subject’s resource by default, moves only to another server of the tree; exp never beyond the subject’s', async () => {
    const { actor, svc, svc2, subjectToken } = await cast();
    const same = await exchangeToken(t, actor, subjectToken).expect(200);
    expect(claimsOf(same.body.access_token).aud).toBe(svc.identifier);
    const management = await exchangeToken(t, actor, subjectToken, {
      audience: managementResourceIdentifier(t.config),
    }).expect(400);
    expect(management.body.error).toBe('invalid_target');
    const unknown = await exchangeToken(t, actor, subjectToken, { audience: 'https://files.example' }).expect(
      400,
    );
    expect(unknown.body.error).toBe('invalid_target');
    const explicit = await exchangeToken(t, actor, subjectToken, { resource: svc.identifier }).expect(200);
    expect(claimsOf(explicit.body.access_token).aud).toBe(svc.identifier);
    const moved = await exchangeToken(t, actor, subjectToken, { resource: svc2.identifier }).expect(200);
    expect(claimsOf(moved.body.access_token)).toMatchObject({ aud: svc2.identifier, scope: 'files:read' });
    // exp ≤ the subject's, even when the subject has little time left
    const clock = t.app.get(Clock);
    const subjectExp = claimsOf(subjectToken).exp;
    try {
      clock.advance(subjectExp * 1000 - clock.nowMs() - 10_000);
      const late = await exchangeToken(t, actor, subjectToken).expect(200);
      expect(claimsOf(late.body.access_token).exp).toBe(subjectExp);
      expect(late.body.expires_in).toBeLessThanOrEqual(10);
    } finally {
      clock.reset();
    }
  });

  it('validates the request: token types, actor token, missing parameters, no client', async () => {
    const { actor, second, subjectToken } = await cast();
    const bad = async (extra: Record<string, string>, error: string) => {
      const res = await exchangeToken(t, actor, subjectToken, extra).expect(400);
      expect(res.body.error).toBe(error);
    };
    await bad({ subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }, 'invalid_request');
    await bad({ requested_token_type: 'urn:ietf:params:oauth:token-type:id_token' }, 'invalid_request');
    await bad({ actor_token: actor.accessToken }, 'invalid_request'); // actor_token_type missing
    await bad({ actor_token: second.accessToken, actor_token_type: ACCESS_TOKEN_TYPE }, 'invalid_grant');
    await exchangeToken(t, actor, subjectToken, {
      actor_token: actor.accessToken,
      actor_token_type: ACCESS_TOKEN_TYPE,
    }).expect(200);
    const missing = await request(t.http)
      .post(`${API}/auth/token`)
      .set(basicAuth(actor.agent.id, actor.apiKey))
      .type('form')
      .send({ grant_type: TOKEN_EXCHANGE_GRANT, subject_token_type: ACCESS_TOKEN_TYPE })
      .expect(400);
    expect(missing.body.error_description).toBe('The parameter "subject_token" is required');
    const anonymous = await request(t.http)
      .post(`${API}/auth/token`)
      .type('form')
      .send({
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: subjectToken,
        subject_token_type: ACCESS_TOKEN_TYPE,
      })
      .expect(401);
    expect(anonymous.body.error).toBe('invalid_client');
    // no refresh token, even when asked for
    const offline = await exchangeToken(t, actor, subjectToken, {
      scope: 'files:read offline_access',
    }).expect(200);
    expect(offline.body.refresh_token).toBeUndefined();
    expect(offline.body.scope).toBe('files:read');
  });

  it('a token carrying act cannot create, rotate or revoke credentials (CONTRACT §5)', async () => {
    const { subject } = await cast();
    // the subject exchanges its own management token: same scopes, now carrying act
    const exchanged = (
      await exchangeToken(t, subject, subject.accessToken, { scope: SCOPES.join(' ') }).expect(200)
    ).body.access_token as string;
    expect(claimsOf(exchanged).scope).toBe(SCOPES.slice().sort().join(' '));
    const create = await request(t.http)
      .post(`${API}/credentials`)
      .set(bearer(exchanged))
      .send({})
      .expect(403);
    expect(create.body.type).toBe('urn:agentauth:problem:act_not_allowed');
    await request(t.http)
      .post(`${API}/credentials/${subject.credentialId}/rotate`)
      .set(bearer(exchanged))
      .send({})
      .expect(403);
    await request(t.http)
      .delete(`${API}/credentials/${subject.credentialId}`)
      .set(bearer(exchanged))
      .expect(403);
    // reading is fine
    await request(t.http).get(`${API}/credentials`).set(bearer(exchanged)).expect(200);
    // the same scopes without act may
    await request(t.http).post(`${API}/credentials`).set(subject.auth).send({}).expect(201);
  });

  it('is listed in discovery', async () => {
    const res = await request(t.http).get('/.well-known/oauth-authorization-server').expect(200);
    expect(res.body.grant_types_supported).toEqual(
      expect.arrayContaining(['client_credentials', 'refresh_token', TOKEN_EXCHANGE_GRANT]),
    );
  });
});

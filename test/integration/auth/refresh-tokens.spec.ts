import { managementResourceIdentifier } from '@agentauth/core';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import {
  aKey,
  anAgent,
  API,
  aTree,
  basicAuth,
  type Caller,
  type KeyHolder,
  requestToken,
} from '../../factories/agents';
import { freezeClock } from '../../factories/clock';
import { REFRESH_FAMILY_PURGE_GRACE_MS, RefreshFamiliesRetention } from '@agentauth/auth';
import {
  auditEventsOf,
  columnsContaining,
  endRefreshFamily,
  refreshFamilyRows,
  withDb,
} from '../../factories/db';
import { aPolicy } from '../../factories/policies';
import { logCapture } from '../../support/log-capture';
import { claimsOf, guardStatus, introspect, isActive, revokeToken } from './auth-helpers';

const SCOPES = ['agents:read', 'agents:write', 'credentials:read'];
const INVALID_GRANT = {
  error: 'invalid_grant',
  error_description: 'The refresh token is invalid, expired or revoked',
};

function refresh(t: TestApp, client: KeyHolder, refreshToken: string, extra: Record<string, string> = {}) {
  return request(t.http)
    .post(`${API}/auth/token`)
    .set(basicAuth(client.agent.id, client.apiKey))
    .type('form')
    .send({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
}

describe('refresh tokens', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function grant(
    scope = 'agents:read agents:write offline_access',
  ): Promise<{ root: Caller; agent: Caller; access: string; refreshToken: string }> {
    const root = await aTree(t);
    const agent = await aKey(t, root, await anAgent(t, root, { allowed_scopes: SCOPES }));
    const res = await requestToken(t, agent, { scope }).expect(200);
    return { root, agent, access: res.body.access_token, refreshToken: res.body.refresh_token };
  }

  it('is issued only with offline_access: opaque, stored hashed, its family in the access token', async () => {
    const { root, agent, access, refreshToken } = await grant();
    expect(refreshToken).toMatch(/^aa_rt_[A-Za-z0-9_-]{43}$/);
    expect((await requestToken(t, agent).expect(200)).body.refresh_token).toBeUndefined();
    const fam = claimsOf(access).fam as string;
    expect(fam).toEqual(expect.any(String));
    const [row] = await withDb(
      async (db) =>
        (await db.query(`SELECT * FROM refresh_families WHERE id = $1`, [fam])).rows as Record<
          string,
          unknown
        >[],
    );
    expect(row).toMatchObject({
      client_agent_id: agent.agent.id,
      subject_agent_id: agent.agent.id,
      root_agent_id: root.agent.id,
      credential_id: agent.credentialId,
      scopes: ['agents:read', 'agents:write'],
      audience: managementResourceIdentifier(t.config),
      status: 'active',
    });
    const days = ((row.expires_at as Date).getTime() - (row.created_at as Date).getTime()) / 86_400_000;
    expect(days).toBe(t.config.refreshTokenExpireDays);
    const hash = createHash('sha256').update(refreshToken).digest('hex');
    expect(await columnsContaining(refreshToken.slice(6))).toEqual([]);
    expect(await columnsContaining(hash)).toEqual(['refresh_tokens.token_hash']);
    expect(logCapture.containing(refreshToken.slice(6))).toEqual([]);
  });

  it('rotates on every use: a new pair each time, the family kept, the used token dead', async () => {
    const { root, agent, refreshToken } = await grant();
    const first = await refresh(t, agent, refreshToken).expect(200);
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: t.config.accessTokenExpireMinutes * 60,
      scope: 'agents:read agents:write',
      refresh_token: expect.stringMatching(/^aa_rt_/),
    });
    expect(first.body.refresh_token).not.toBe(refreshToken);
    const second = await refresh(t, agent, first.body.refresh_token).expect(200);
    expect(claimsOf(second.body.access_token).fam).toBe(claimsOf(first.body.access_token).fam);
    expect(await guardStatus(t, second.body.access_token)).toBe(200);
    const events = await auditEventsOf(second.headers['x-request-id']);
    expect(events).toEqual([
      expect.objectContaining({
        event_type: 'token.issued',
        details: expect.objectContaining({
          grant_type: 'refresh_token',
          family_id: claimsOf(first.body.access_token).fam,
        }),
      }),
    ]);
    expect(await isActive(t, root, second.body.access_token)).toBe(true);
  });

  it('detects reuse: an old token revokes the whole family, the newest tokens included', async () => {
    const { root, agent, access, refreshToken } = await grant();
    const first = await refresh(t, agent, refreshToken).expect(200);
    const second = await refresh(t, agent, first.body.refresh_token).expect(200);
    // the first refresh token again: reuse
    const reused = await refresh(t, agent, refreshToken).expect(400);
    expect(reused.body).toEqual(INVALID_GRANT);
    const events = await auditEventsOf(reused.headers['x-request-id']);
    expect(events.map((e) => e.event_type)).toEqual(['refresh_token.reuse_detected', 'token.issue_failed']);
    expect(events[0]).toMatchObject({
      outcome: 'denied',
      actor_agent_id: agent.agent.id,
      target_type: 'refresh_family',
      target_id: claimsOf(access).fam,
      details: { family_id: claimsOf(access).fam, presented_state: 'used', family_revoked_now: true },
    });
    // every token of the family is dead: the newest refresh token and every access token
    expect((await refresh(t, agent, second.body.refresh_token).expect(400)).body).toEqual(INVALID_GRANT);
    for (const token of [access, first.body.access_token, second.body.access_token]) {
      expect(await isActive(t, root, token)).toBe(false);
      expect(await guardStatus(t, token)).toBe(401);
    }
    // the client itself is fine: a new grant works
    await requestToken(t, agent).expect(200);
  });

  it('lets exactly one of 20 concurrent uses win; the others are reuse and kill the family', async () => {
    const { root, agent, refreshToken } = await grant();
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(t, agent, refreshToken)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array<number>(19).fill(400)]);
    for (const r of results.filter((x) => x.status === 400)) expect(r.body).toEqual(INVALID_GRANT);
    const winner = results.find((r) => r.status === 200)!;
    // the winner's new tokens died with the family
    expect((await refresh(t, agent, winner.body.refresh_token).expect(400)).body).toEqual(INVALID_GRANT);
    expect(await isActive(t, root, winner.body.access_token)).toBe(false);
    const fam = claimsOf(winner.body.access_token).fam;
    const [family] = await withDb(
      async (db) =>
        (await db.query(`SELECT status, revoked_reason FROM refresh_families WHERE id = $1`, [fam])).rows,
    );
    expect(family).toEqual({ status: 'revoked', revoked_reason: 'reuse_detected' });
    const [{ n }] = await withDb(
      async (db) =>
        (
          await db.query(
            `SELECT count(*)::int AS n FROM refresh_tokens WHERE family_id = $1 AND status = 'used'`,
            [fam],
          )
        ).rows,
    );
    expect(n).toBe(1);
  });

  it('is bound to its client: another client cannot use it (and does not burn it)', async () => {
    const { root, agent, refreshToken } = await grant();
    const other = await aKey(t, root, await anAgent(t, root, { allowed_scopes: SCOPES }));
    expect((await refresh(t, other, refreshToken).expect(400)).body).toEqual(INVALID_GRANT);
    // another key of the same agent is the same client
    const secondKey = await aKey(t, root, agent.agent);
    await refresh(t, secondKey, refreshToken).expect(200);
    // client authentication is required
    const anonymous = await request(t.http)
      .post(`${API}/auth/token`)
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: refreshToken })
      .expect(401);
    expect(anonymous.body.error).toBe('invalid_client');
  });

  it('narrows scope on request, refuses widening beyond the original grant', async () => {
    const { agent, refreshToken } = await grant('agents:read agents:write offline_access');
    const narrowed = await refresh(t, agent, refreshToken, { scope: 'agents:read' }).expect(200);
    expect(narrowed.body.scope).toBe('agents:read');
    // the family keeps its original grant: the next refresh may ask for all of it again
    const again = await refresh(t, agent, narrowed.body.refresh_token).expect(200);
    expect(again.body.scope).toBe('agents:read agents:write');
    // credentials:read is the agent's, but not in the original grant
    const widened = await refresh(t, agent, again.body.refresh_token, {
      scope: 'agents:read credentials:read',
    });
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe('invalid_scope');
    // a refused request does not consume the token
    await refresh(t, agent, again.body.refresh_token).expect(200);
    // nor may a refresh change the audience
    const { agent: a2, refreshToken: rt2 } = await grant();
    const retarget = await refresh(t, a2, rt2, { audience: 'billing' }).expect(400);
    expect(retarget.body.error).toBe('invalid_target');
  });

  it('re-checks the client like a new grant: narrowed agent, suspended agent, revoked key', async () => {
    const narrowedCase = await grant();
    await request(t.http)
      .patch(`${API}/agents/${narrowedCase.agent.agent.id}`)
      .set(narrowedCase.root.auth)
      .send({ allowed_scopes: ['agents:read'] })
      .expect(200);
    const narrowed = await refresh(t, narrowedCase.agent, narrowedCase.refreshToken).expect(200);
    expect(narrowed.body.scope).toBe('agents:read');

    const suspendedCase = await grant();
    await request(t.http)
      .patch(`${API}/agents/${suspendedCase.agent.agent.id}`)
      .set(suspendedCase.root.auth)
      .send({ status: 'suspended' })
      .expect(200);
    expect((await refresh(t, suspendedCase.agent, suspendedCase.refreshToken)).status).toBe(401);
    await request(t.http)
      .patch(`${API}/agents/${suspendedCase.agent.agent.id}`)
      .set(suspendedCase.root.auth)
      .send({ status: 'active' })
      .expect(200);
    // re-activation does not revive the family
    expect((await refresh(t, suspendedCase.agent, suspendedCase.refreshToken).expect(400)).body).toEqual(
      INVALID_GRANT,
    );

    const revokedCase = await grant();
    const otherKey = await aKey(t, revokedCase.root, revokedCase.agent.agent);
    await request(t.http)
      .delete(`${API}/credentials/${revokedCase.agent.credentialId}`)
      .set(revokedCase.root.auth)
      .expect(200);
    // the family started with the revoked key is dead, even for the agent's other key
    expect((await refresh(t, otherKey, revokedCase.refreshToken).expect(400)).body).toEqual(INVALID_GRANT);
    expect(await isActive(t, revokedCase.root, revokedCase.access)).toBe(false);
  });

  it('re-checks the policies like a new grant: a deny added after the grant narrows or refuses the refresh', async () => {
    const { root, agent, refreshToken } = await grant();
    await aPolicy(t, root, {
      name: 'no agents:write for this client',
      subjects: [agent.agent.id],
      actions: ['agents:write'],
    });
    // explicitly asked for: refused, and the refresh token is not consumed
    const explicit = await refresh(t, agent, refreshToken, { scope: 'agents:write' }).expect(400);
    expect(explicit.body.error).toBe('invalid_scope');
    // the default drops the denied scope
    const narrowed = await refresh(t, agent, refreshToken).expect(200);
    expect(narrowed.body.scope).toBe('agents:read');
    expect(claimsOf(narrowed.body.access_token).scope).toBe('agents:read');
  });

  it('ends REFRESH_TOKEN_EXPIRE_DAYS after the first grant, however often it was rotated', async () => {
    const frozen = freezeClock(t);
    try {
      const { agent, refreshToken } = await grant();
      const days = t.config.refreshTokenExpireDays;
      let current = refreshToken;
      for (let i = 1; i < days; i++) {
        frozen.clock.advance(86_400_000);
        current = (await refresh(t, agent, current).expect(200)).body.refresh_token;
      }
      const end = frozen.frozenAt + days * 86_400_000;
      frozen.clock.advance(86_400_000 - 1001);
      const last = await refresh(t, agent, current).expect(200);
      // the access token of the last refresh does not outlive the family
      expect(claimsOf(last.body.access_token).exp * 1000).toBeLessThanOrEqual(end);
      // in the family's last second no access token fits: refused, and the refresh token is not consumed
      frozen.clock.advance(1000);
      expect((await refresh(t, agent, last.body.refresh_token).expect(400)).body.error).toBe('invalid_grant');
      frozen.clock.advance(1);
      const expired = await refresh(t, agent, last.body.refresh_token).expect(400);
      expect(expired.body).toEqual(INVALID_GRANT);
      const events = await auditEventsOf(expired.headers['x-request-id']);
      expect(events.map((e) => e.event_type)).toEqual(['token.issue_failed']); // expired, not reuse
    } finally {
      frozen.restore();
    }
  });

  it('is purged by maintenance once ended for longer than the grace, with every token; nothing else', async () => {
    const ended = await grant();
    const rotated = await refresh(t, ended.agent, ended.refreshToken).expect(200); // a chain: parent + child
    const recentlyEnded = await grant();
    const live = await grant();
    const fam = (g: { access: string }) => claimsOf(g.access).fam as string;
    await endRefreshFamily(fam(ended), REFRESH_FAMILY_PURGE_GRACE_MS + 60_000);
    await endRefreshFamily(fam(recentlyEnded), REFRESH_FAMILY_PURGE_GRACE_MS - 600_000);
    const kept = [fam(recentlyEnded), fam(live)];
    expect(await refreshFamilyRows([fam(ended)])).toEqual({ families: 1, tokens: 2 });
    expect(await refreshFamilyRows(kept)).toEqual({ families: 2, tokens: 2 });

    const retention = t.app.get(RefreshFamiliesRetention);
    const first = await retention.purgeExpired();
    expect(first.families).toBeGreaterThanOrEqual(1);
    expect(first.tokens).toBeGreaterThanOrEqual(2);
    expect(await refreshFamilyRows([fam(ended)])).toEqual({ families: 0, tokens: 0 });
    expect(await refreshFamilyRows(kept)).toEqual({ families: 2, tokens: 2 });
    expect(await retention.purgeExpired()).toEqual({ families: 0, tokens: 0 });

    // The purged family's token is unknown now: the same invalid_grant as before. The live one still works.
    expect((await refresh(t, ended.agent, rotated.body.refresh_token).expect(400)).body).toEqual(
      INVALID_GRANT,
    );
    await refresh(t, live.agent, live.refreshToken).expect(200);
  });

  it('answers invalid_grant for unknown and malformed refresh tokens, invalid_request when missing', async () => {
    const { agent } = await grant();
    for (const token of ['aa_rt_' + 'A'.repeat(43), 'nonsense', `aa_rt_${'x'.repeat(10)}`]) {
      expect((await refresh(t, agent, token).expect(400)).body).toEqual(INVALID_GRANT);
    }
    const missing = await request(t.http)
      .post(`${API}/auth/token`)
      .set(basicAuth(agent.agent.id, agent.apiKey))
      .type('form')
      .send({ grant_type: 'refresh_token' })
      .expect(400);
    expect(missing.body).toEqual({
      error: 'invalid_request',
      error_description: 'The parameter "refresh_token" is required',
    });
  });

  it('revocation (RFC 7009) of a refresh token revokes its family; introspection sees it', async () => {
    const { root, agent, access, refreshToken } = await grant();
    const rotated = await refresh(t, agent, refreshToken).expect(200);
    const active = await introspect(t, root, rotated.body.refresh_token).expect(200);
    expect(active.body).toEqual({
      active: true,
      token_type: 'refresh_token',
      client_id: agent.agent.id,
      sub: agent.agent.id,
      scope: 'agents:read agents:write',
      aud: managementResourceIdentifier(t.config),
      iat: expect.any(Number),
      exp: expect.any(Number),
      fam: claimsOf(access).fam,
    });
    expect((await introspect(t, root, refreshToken).expect(200)).body).toEqual({ active: false }); // used
    // not the caller's to revoke: a sibling of another branch
    const stranger = await aKey(t, root, await anAgent(t, root, { allowed_scopes: SCOPES }));
    await revokeToken(t, stranger, rotated.body.refresh_token, { token_type_hint: 'refresh_token' }).expect(
      200,
    );
    expect(await isActive(t, root, rotated.body.refresh_token)).toBe(true);
    const res = await revokeToken(t, agent, rotated.body.refresh_token, {
      token_type_hint: 'refresh_token',
    }).expect(200);
    expect(res.text).toBe('');
    expect(await auditEventsOf(res.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'token.revoked',
        target_type: 'refresh_family',
        target_id: claimsOf(access).fam,
        details: { token_type: 'refresh_token', family_id: claimsOf(access).fam, client_id: agent.agent.id },
      }),
    ]);
    expect(await isActive(t, root, rotated.body.refresh_token)).toBe(false);
    for (const token of [access, rotated.body.access_token])
      expect(await isActive(t, root, token)).toBe(false);
    // using it after revocation counts as reuse: invalid_grant and the reuse event (the family already dead)
    const reused = await refresh(t, agent, rotated.body.refresh_token).expect(400);
    expect(reused.body).toEqual(INVALID_GRANT);
    const [reuse] = await auditEventsOf(reused.headers['x-request-id']);
    expect(reuse).toMatchObject({
      event_type: 'refresh_token.reuse_detected',
      outcome: 'denied',
      actor_agent_id: agent.agent.id,
      target_type: 'refresh_family',
      target_id: claimsOf(access).fam,
      details: { family_id: claimsOf(access).fam, presented_state: 'revoked', family_revoked_now: false },
    });
  });

  it('counts active families in /stats', async () => {
    const before = (
      await request(t.http).get(`${API}/stats`).set('X-Admin-Key', t.config.adminApiKey).expect(200)
    ).body;
    await grant();
    const after = (
      await request(t.http).get(`${API}/stats`).set('X-Admin-Key', t.config.adminApiKey).expect(200)
    ).body;
    expect(after.refresh_families.active).toBe(before.refresh_families.active + 1);
    expect(after.tokens.issued_total).toBeGreaterThan(before.tokens.issued_total);
  });
});

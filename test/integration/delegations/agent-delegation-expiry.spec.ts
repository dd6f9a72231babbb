import request from 'supertest';
import { Clock } from '@agentauth/core';
import { createTestApp, type TestApp } from '../../support/app';
import { claimsOf } from '../../factories/agents';
import { introspect } from '../auth/auth-helpers';
import { aThreeHopChain } from './chain-fixture';
import { aDelegatedToken, delegationGrant, refreshGrant } from './grant-helpers';

/**
 * Issue 8 "Done when": a delegation that expires stops the grant and the refresh tokens minted from it at
 * that instant (the Clock moves; nothing else happens). Own app: the clock jumps by an hour.
 */
describe('agent_delegation: expiry of the delegation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('the grant and the refresh tokens work until the delegation’s expires_at and stop at that instant', async () => {
    const c = await aThreeHopChain(t);
    const clock = t.app.get(Clock);
    const d3End = Date.parse(c.d3.expires_at);
    const first = await aDelegatedToken(t, c.ephemeral, c.d3.delegation_token as string);

    // Moments before the end (the Clock keeps running after a jump; a few seconds of margin keep the test
    // clear of "the grant ends within a second"): the refresh works and its token ends with the delegation.
    clock.advance(d3End - 5000 - clock.nowMs());
    const late = await refreshGrant(t, c.ephemeral, first.refreshToken).expect(200);
    expect(claimsOf(late.body.access_token).exp).toBeLessThanOrEqual(Math.floor(d3End / 1000));
    expect(claimsOf(late.body.access_token).delegation_id).toBe(c.d3.id);
    // A fresh grant at that moment also ends with the delegation.
    const lastGrant = await aDelegatedToken(t, c.ephemeral, c.d3.delegation_token as string);
    expect(claimsOf(lastGrant.accessToken).exp).toBeLessThanOrEqual(Math.floor(d3End / 1000));

    // At expires_at (exclusive; the Clock runs on from there, so "at or just after"): the grant, the refresh token and what it minted are dead.
    clock.advance(d3End - clock.nowMs());
    const grant = await delegationGrant(t, c.ephemeral, c.d3.delegation_token as string).expect(400);
    expect(grant.body.error).toBe('invalid_grant');
    const refresh = await refreshGrant(t, c.ephemeral, late.body.refresh_token).expect(400);
    expect(refresh.body.error).toBe('invalid_grant');
    const refresh2 = await refreshGrant(t, c.ephemeral, lastGrant.refreshToken).expect(400);
    expect(refresh2.body.error).toBe('invalid_grant');
    expect((await introspect(t, c.root, late.body.access_token).expect(200)).body).toEqual({ active: false });
    expect((await introspect(t, c.root, lastGrant.refreshToken).expect(200)).body).toEqual({ active: false });

    // The parent hops have not expired: the worker (d2, 4 h) still gets tokens.
    const mid = await delegationGrant(t, c.worker, c.d2.delegation_token as string).expect(200);
    expect(claimsOf(mid.body.access_token).sub).toBe(c.root.agent.id);
    const res = await request(t.http).get('/health');
    expect(res.status).toBe(200);
  });
});

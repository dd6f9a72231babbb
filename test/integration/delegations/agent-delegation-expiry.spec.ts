import { createTestApp, type TestApp } from '../../support/app';
import { claimsOf } from '../../factories/agents';
import { freezeClock } from '../../factories/clock';
import { auditEventsOf } from '../../factories/db';
import { aDelegation, MINUTE } from '../../factories/delegations';
import { introspect } from '../auth/auth-helpers';
import { aThreeHopChain } from './chain-fixture';
import { aDelegatedToken, delegationGrant, refreshGrant } from './grant-helpers';

/**
 * Issue 8 "Done when": a delegation that expires stops the grant and the refresh tokens minted from it at
 * that instant (the frozen Clock moves; nothing else happens). Own app: the clock jumps by half an hour.
 */
describe('agent_delegation: expiry of the delegation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('the grant and the refresh tokens work 1 ms before the delegation’s expires_at and stop at that instant', async () => {
    const c = await aThreeHopChain(t);
    const frozen = freezeClock(t);
    try {
      // A last hop ending on a whole second: an access token's `exp` is in whole seconds and never passes
      // the delegation, so 1 ms before such an end a token still fits (ending exactly with it).
      const end = Math.ceil((frozen.frozenAt + 30 * MINUTE) / 1000) * 1000;
      const d4 = await aDelegation(t, c.worker, {
        delegate_agent_id: c.ephemeral.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: ['agents:read'],
        expires_at: new Date(end).toISOString(),
      });
      const first = await aDelegatedToken(t, c.ephemeral, d4.delegation_token as string);

      // expires_at − 1 ms: the refresh and a fresh grant work, their tokens end with the delegation.
      frozen.clock.advance(end - 1 - frozen.clock.nowMs());
      const late = await refreshGrant(t, c.ephemeral, first.refreshToken).expect(200);
      expect(claimsOf(late.body.access_token)).toMatchObject({ exp: end / 1000, delegation_id: d4.id });
      const lastGrant = await aDelegatedToken(t, c.ephemeral, d4.delegation_token as string);
      expect(claimsOf(lastGrant.accessToken).exp).toBe(end / 1000);

      // expires_at (exclusive): the grant, the refresh tokens and what they minted are dead — refused for
      // the delegation's expiry, not for lack of time to fit a token.
      frozen.clock.advance(1);
      const grant = await delegationGrant(t, c.ephemeral, d4.delegation_token as string).expect(400);
      expect(grant.body.error).toBe('invalid_grant');
      expect((await auditEventsOf(grant.headers['x-request-id']))[0].details).toMatchObject({
        cause: 'delegation_expired',
      });
      for (const refreshToken of [late.body.refresh_token as string, lastGrant.refreshToken]) {
        const refresh = await refreshGrant(t, c.ephemeral, refreshToken).expect(400);
        expect(refresh.body.error).toBe('invalid_grant');
        expect((await introspect(t, c.root, refreshToken).expect(200)).body).toEqual({ active: false });
      }
      for (const accessToken of [late.body.access_token as string, lastGrant.accessToken]) {
        expect((await introspect(t, c.root, accessToken).expect(200)).body).toEqual({ active: false });
      }

      // The parent hops have not expired: the worker (d2, 4 h) still gets tokens.
      const mid = await delegationGrant(t, c.worker, c.d2.delegation_token as string).expect(200);
      expect(claimsOf(mid.body.access_token).sub).toBe(c.root.agent.id);
    } finally {
      frozen.restore();
    }
  });
});

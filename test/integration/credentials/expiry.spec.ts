import request from 'supertest';
import { DataSource } from 'typeorm';
import { CredentialExpiry, CredentialsService, InvalidClientCredentials } from '@agentauth/credentials';
import { createTestApp, type TestApp } from '../../support/app';
import { aKey, anAgent, API, aTree } from '../../factories/agents';
import { freezeClock } from '../../factories/clock';

const SCOPES = ['agents:read', 'credentials:read', 'credentials:write'];

/**
 * The maintenance task `credentials.mark-expired` (run by the worker's `maintenance` job; called directly
 * here): keys past `expires_at` become `expired` in lists, `/stats` and the audit trail, once.
 */
describe('credential expiry marking', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const credentialStats = async () =>
    (await request(t.http).get(`${API}/stats`).set('X-Admin-Key', t.config.adminApiKey).expect(200)).body
      .credentials as { total: number; by_status: Record<string, number> };

  it('marks a key past expires_at expired once: listed, counted, audited, and refused on any clock', async () => {
    const frozen = freezeClock(t);
    try {
      const expiry = t.app.get(CredentialExpiry);
      const root = await aTree(t);
      const agent = await anAgent(t, root, { allowed_scopes: SCOPES });
      const expiresAt = new Date(frozen.frozenAt + 5_000);
      const timed = await aKey(t, root, agent, { expires_at: expiresAt.toISOString() });
      const lasting = await aKey(t, root, agent);
      // Whatever other suites of this database left due is marked now, so the counts below are this test's.
      await expiry.markExpired();
      const listed = async (status: string) =>
        (
          await request(t.http)
            .get(`${API}/credentials`)
            .query({ agent_id: agent.id, status })
            .set(root.auth)
            .expect(200)
        ).body.items.map((c: { id: string; status: string }) => `${c.id} ${c.status}`);
      expect(await listed('active')).toEqual(
        expect.arrayContaining([`${timed.credentialId} active`, `${lasting.credentialId} active`]),
      );
      const before = await credentialStats();

      frozen.clock.advance(5_000);
      // Refused from expires_at on, before any marking (the marking changes no decision).
      await expect(t.app.get(CredentialsService).verifyApiKey(agent.id, timed.apiKey)).rejects.toBeInstanceOf(
        InvalidClientCredentials,
      );
      // The marking is server-wide: a key of a suite running beside this one may fall due in the same run.
      expect((await expiry.markExpired()).expired).toBeGreaterThanOrEqual(1);

      expect(await listed('expired')).toEqual([`${timed.credentialId} expired`]);
      expect(await listed('active')).toEqual([`${lasting.credentialId} active`]);
      const after = await credentialStats();
      expect(after.by_status.expired - before.by_status.expired).toBeGreaterThanOrEqual(1);
      const events = await t.app.get(DataSource).query(
        `SELECT root_agent_id, target_type, outcome, details FROM audit_events
           WHERE event_type = 'credential.expired' AND target_id = $1`,
        [timed.credentialId],
      );
      expect(events).toEqual([
        {
          root_agent_id: root.agent.id,
          target_type: 'credential',
          outcome: 'success',
          details: { agent_id: agent.id, expires_at: expiresAt.toISOString() },
        },
      ]);

      // Idempotent: marking again writes no second event for this key.
      await expiry.markExpired();
      const [{ n }] = await t.app
        .get(DataSource)
        .query(
          `SELECT count(*)::int AS n FROM audit_events WHERE event_type = 'credential.expired' AND target_id = $1`,
          [timed.credentialId],
        );
      expect(n).toBe(1);

      // Marked expired is final: a clock set back before expires_at does not revive the key.
      frozen.clock.advance(-10_000);
      await expect(t.app.get(CredentialsService).verifyApiKey(agent.id, timed.apiKey)).rejects.toMatchObject({
        reason: 'expired',
      });
    } finally {
      frozen.restore();
    }
  });

  it('revokes an expired key like any other (the same result whether or not it was marked)', async () => {
    const frozen = freezeClock(t);
    try {
      const root = await aTree(t);
      const agent = await anAgent(t, root, { allowed_scopes: SCOPES });
      const timed = await aKey(t, root, agent, {
        expires_at: new Date(frozen.frozenAt + 1_000).toISOString(),
      });
      frozen.clock.advance(1_000);
      await t.app.get(CredentialExpiry).markExpired();
      await request(t.http)
        .post(`${API}/credentials/${timed.credentialId}/rotate`)
        .set(root.auth)
        .send({})
        .expect(409);
      const revoked = await request(t.http)
        .delete(`${API}/credentials/${timed.credentialId}`)
        .set(root.auth)
        .expect(200);
      expect(revoked.body).toMatchObject({ status: 'revoked', revoked_at: expect.any(String) });
    } finally {
      frozen.restore();
    }
  });
});

import request from 'supertest';
import { DataSource } from 'typeorm';
import { JobsProducer, QUEUES } from '@agentauth/jobs';
import { Clock } from '@agentauth/core';
import { createTestApp, type TestApp } from '../../support/app';
import { eventually } from '../../support/webhook-receiver';
import { isolatedRedisPrefix, killAllWorkers, startWorker } from '../../support/worker-process';
import { aKey, anAgent, API, aTree, authStatus, claimsOf } from '../../factories/agents';
import { guardStatus, introspect } from '../auth/auth-helpers';

jest.setTimeout(90_000);

/** The real worker process's maintenance run expires ephemeral agents with the usual cascade. */
describe('worker maintenance', () => {
  const env = { REDIS_KEY_PREFIX: isolatedRedisPrefix('wk-maint') };
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(env);
    await startWorker(env);
  });
  afterEach(() => {
    t.app.get(Clock).reset();
  });
  afterAll(async () => {
    await killAllWorkers();
    await t?.close();
  });

  it('deactivates an ephemeral agent once expired, revoking its credentials and tokens', async () => {
    const root = await aTree(t);
    const expiresAt = new Date(Date.now() + 1500);
    const ephemeral = await anAgent(t, root, {
      trust_level: 'ephemeral',
      expires_at: expiresAt.toISOString(),
      allowed_scopes: ['agents:read'],
    });
    const key = await aKey(t, root, ephemeral);
    expect(await authStatus(t, key)).toBe(200);
    // An access token of the ephemeral agent, minted before it expires (its exp is capped at expires_at).
    const token = key.accessToken;
    expect(claimsOf(token).exp).toBeLessThanOrEqual(Math.ceil(expiresAt.getTime() / 1000));
    expect((await introspect(t, root, token).expect(200)).body).toMatchObject({ active: true });
    expect(await guardStatus(t, token)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, expiresAt.getTime() - Date.now() + 100));
    // Expired: it stopped authenticating at that instant, before any maintenance ran.
    expect(await authStatus(t, key)).toBe(401);
    expect((await introspect(t, root, token).expect(200)).body).toEqual({ active: false });

    // Only time kills the token so far: with the API's clock set back before expires_at it is still active.
    // (The worker runs on real time.) What the maintenance run changes is then seen with that clock too.
    const clock = t.app.get(Clock);
    const setBack = () => clock.advance(expiresAt.getTime() - 1000 - clock.nowMs());
    setBack();
    expect((await introspect(t, root, token).expect(200)).body).toMatchObject({ active: true });
    expect(await guardStatus(t, token)).toBe(200);
    clock.reset();

    const producer = t.app.get(JobsProducer);
    const jobId = await producer.runMaintenanceNow();
    const done = await eventually(async () => {
      const current = await producer.queue(QUEUES.maintenance).getJob(jobId);
      const state = await current?.getState();
      if (state === 'failed') throw new Error(`maintenance failed: ${current?.failedReason}`);
      return state === 'completed' ? current : undefined;
    }, 30_000);
    expect(done.returnvalue['agents.expire-due'].expired).toBeGreaterThanOrEqual(1);

    // Its tokens are dead, not merely expired: inactive and refused even on the set-back clock.
    for (const when of ['now', 'before expires_at']) {
      if (when !== 'now') setBack();
      expect({ when, body: (await introspect(t, root, token).expect(200)).body }).toEqual({
        when,
        body: { active: false },
      });
      expect({ when, guard: await guardStatus(t, token) }).toEqual({ when, guard: 401 });
    }
    clock.reset();

    const agent = await request(t.http).get(`${API}/agents/${ephemeral.id}`).set(root.auth).expect(200);
    expect(agent.body.status).toBe('deactivated');
    const [credential] = await t.app
      .get(DataSource)
      .query(`SELECT status FROM credentials WHERE id = $1`, [key.credentialId]);
    expect(credential.status).toBe('revoked');
    const events = await t.app
      .get(DataSource)
      .query(
        `SELECT count(*)::int AS n FROM audit_events WHERE event_type = 'agent.expired' AND target_id = $1`,
        [ephemeral.id],
      );
    expect(events[0].n).toBe(1);
  });
});

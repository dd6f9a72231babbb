import request from 'supertest';
import { DataSource } from 'typeorm';
import { JobsProducer, QUEUES } from '@agentauth/jobs';
import { createTestApp, type TestApp } from '../../support/app';
import { eventually } from '../../support/webhook-receiver';
import { isolatedRedisPrefix, killAllWorkers, startWorker } from '../../support/worker-process';
import { aKey, anAgent, API, aTree, authStatus } from '../../factories/agents';

jest.setTimeout(90_000);

/** The real worker process's maintenance run expires ephemeral agents with the usual cascade. */
describe('worker maintenance', () => {
  const env = { REDIS_KEY_PREFIX: isolatedRedisPrefix('wk-maint') };
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(env);
    await startWorker(env);
  });
  afterAll(async () => {
    await killAllWorkers();
    await t?.close();
  });

  it('deactivates an ephemeral agent once expired, revoking its credentials', async () => {
    const root = await aTree(t);
    const expiresAt = new Date(Date.now() + 1500);
    const ephemeral = await anAgent(t, root, {
      trust_level: 'ephemeral',
      expires_at: expiresAt.toISOString(),
      allowed_scopes: ['agents:read'],
    });
    const key = await aKey(t, root, ephemeral);
    expect(await authStatus(t, key)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, expiresAt.getTime() - Date.now() + 100));
    // Expired: it stopped authenticating at that instant, before any maintenance ran.
    expect(await authStatus(t, key)).toBe(401);

    const producer = t.app.get(JobsProducer);
    const jobId = await producer.runMaintenanceNow();
    const done = await eventually(async () => {
      const current = await producer.queue(QUEUES.maintenance).getJob(jobId);
      const state = await current?.getState();
      if (state === 'failed') throw new Error(`maintenance failed: ${current?.failedReason}`);
      return state === 'completed' ? current : undefined;
    }, 30_000);
    expect(done.returnvalue['agents.expire-due'].expired).toBeGreaterThanOrEqual(1);

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

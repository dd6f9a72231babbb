import request from 'supertest';
import { DataSource } from 'typeorm';
import { JobsProducer, QUEUES } from '@agentauth/jobs';
import { Clock } from '@agentauth/core';
import { createTestApp, type TestApp } from '../../support/app';
import { finishedJob, isolatedRedisPrefix, killAllWorkers, startWorker } from '../../support/worker-process';
import { REFRESH_FAMILY_PURGE_GRACE_MS } from '@agentauth/auth';
import { aKey, anAgent, API, aTree, authStatus, claimsOf, requestToken } from '../../factories/agents';
import { endRefreshFamily, refreshFamilyRows } from '../../factories/db';
import { guardStatus, introspect } from '../auth/auth-helpers';

jest.setTimeout(90_000);

const sleepUntil = (at: Date) =>
  new Promise((resolve) => setTimeout(resolve, at.getTime() - Date.now() + 100));

/**
 * The real worker process's maintenance run: expires ephemeral agents with the usual cascade, marks expired
 * credentials, purges ended refresh families — and a second run changes nothing.
 */
describe('worker maintenance', () => {
  const env = {
    REDIS_KEY_PREFIX: isolatedRedisPrefix('wk-maint'),
    // No scheduled run during the test: every run here is on demand.
    MAINTENANCE_INTERVAL_SECONDS: '86400',
  };
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

  /** Enqueues a maintenance run (what `runMaintenanceNow` does) and returns the worker's per-task results. */
  async function runMaintenance(): Promise<Record<string, Record<string, number>>> {
    const producer = t.app.get(JobsProducer);
    const jobId = await producer.runMaintenanceNow();
    return (await finishedJob(producer.queue(QUEUES.maintenance), jobId)).returnvalue;
  }

  const countEvents = async (eventType?: string, targetId?: string): Promise<number> => {
    const [row] = await t.app.get(DataSource).query(
      `SELECT count(*)::int AS n FROM audit_events
         WHERE ($1::text IS NULL OR event_type = $1) AND ($2::text IS NULL OR target_id = $2)`,
      [eventType ?? null, targetId ?? null],
    );
    return row.n;
  };

  it('deactivates an ephemeral agent once expired, revoking its credentials and tokens', async () => {
    const root = await aTree(t);
    const expiresAt = new Date(Date.now() + 2500);
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
    await sleepUntil(expiresAt);
    // Expired: it stopped authenticating at that instant, before any maintenance ran.
    expect(await authStatus(t, key)).toBe(401);
    expect((await introspect(t, root, token).expect(200)).body).toEqual({ active: false });

    // Only time kills the token so far: with the API's clock set back before expires_at it is still active.
    // (The worker runs on real time.) What the maintenance run changes is then seen with that clock too.
    // Set back to the middle of the token's whole-second validity [iat, exp): its exp is expires_at rounded
    // down, so "expires_at - 1 s" could leave only a few ms before exp on a loaded machine.
    const clock = t.app.get(Clock);
    const { iat, exp } = claimsOf(token);
    const validAtMs = ((iat + exp) / 2) * 1000;
    expect(exp * 1000 - validAtMs).toBeGreaterThanOrEqual(500);
    const setBack = () => clock.advance(validAtMs - clock.nowMs());
    setBack();
    expect((await introspect(t, root, token).expect(200)).body).toMatchObject({ active: true });
    expect(await guardStatus(t, token)).toBe(200);
    clock.reset();

    expect((await runMaintenance())['agents.expire-due'].expired).toBeGreaterThanOrEqual(1);

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
    expect(await countEvents('agent.expired', ephemeral.id)).toBe(1);
  });

  it('marks expired credentials and purges ended refresh families; a second run changes and records nothing', async () => {
    const root = await aTree(t);
    const agent = await anAgent(t, root, { allowed_scopes: ['agents:read'] });
    const expiresAt = new Date(Date.now() + 2500);
    const expiring = await aKey(t, root, agent, { expires_at: expiresAt.toISOString() });
    const lasting = await aKey(t, root, agent);
    const newFamily = async () =>
      claimsOf(
        (await requestToken(t, lasting, { scope: 'agents:read offline_access' }).expect(200)).body
          .access_token,
      ).fam as string;
    const ended = await newFamily();
    const live = await newFamily();
    await endRefreshFamily(ended, REFRESH_FAMILY_PURGE_GRACE_MS + 60_000);
    await sleepUntil(expiresAt);

    const first = await runMaintenance();
    expect(first['credentials.mark-expired'].expired).toBeGreaterThanOrEqual(1);
    expect(first['refresh-tokens.purge-expired'].families).toBeGreaterThanOrEqual(1);
    const listed = await request(t.http)
      .get(`${API}/credentials`)
      .query({ agent_id: agent.id })
      .set(root.auth)
      .expect(200);
    expect(
      Object.fromEntries(listed.body.items.map((c: { id: string; status: string }) => [c.id, c.status])),
    ).toEqual({ [expiring.credentialId]: 'expired', [lasting.credentialId]: 'active' });
    expect(await countEvents('credential.expired', expiring.credentialId)).toBe(1);
    expect(await refreshFamilyRows([ended])).toEqual({ families: 0, tokens: 0 });
    expect(await refreshFamilyRows([live])).toEqual({ families: 1, tokens: 1 });

    const eventsBefore = await countEvents();
    const second = await runMaintenance();
    expect(second).toMatchObject({
      'agents.expire-due': { expired: 0 },
      'credentials.mark-expired': { expired: 0 },
      'refresh-tokens.purge-expired': { families: 0, tokens: 0 },
    });
    // Not one audit event (no second agent.expired or credential.expired), nothing else changed.
    expect(await countEvents()).toBe(eventsBefore);
    expect(await countEvents('credential.expired', expiring.credentialId)).toBe(1);
    expect(await refreshFamilyRows([live])).toEqual({ families: 1, tokens: 1 });
  });
});

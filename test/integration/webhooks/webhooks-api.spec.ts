import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuditService } from '@agentauth/audit';
import { JobsProducer, QUEUES } from '@agentauth/jobs';
import { decrypt, deriveKey, WEBHOOK_SECRET_KEY_PURPOSE, WebhookDeliveryService } from '@agentauth/webhooks';
import { aChildCaller, API, aTree } from '../../factories/agents';
import { aRootAgentRow, auditEventsAbout } from '../../factories/db';
import { createTestApp, type TestApp } from '../../support/app';
import { logCapture } from '../../support/log-capture';
import { testBearer, testBearerOptions } from '../../support/test-bearer';
import { eventually } from '../../support/webhook-receiver';
import { isolatedRedisPrefix } from '../../support/worker-process';

/** The webhooks API without a worker: subscriptions, tree isolation, SSRF at subscription, enqueueing. */
describe('webhooks API', () => {
  let t: TestApp;
  let open: TestApp; // WEBHOOK_ALLOW_PRIVATE_TARGETS=true
  const rootA = randomUUID();
  const rootB = randomUUID();
  const asA = `Bearer ${testBearer({ rootAgentId: rootA })}`;
  const asB = `Bearer ${testBearer({ rootAgentId: rootB })}`;

  beforeAll(async () => {
    // Webhooks are owned by an agent of the tree: the test bearer's roots exist as agent rows.
    await Promise.all([aRootAgentRow(rootA), aRootAgentRow(rootB)]);
    t = await createTestApp({ REDIS_KEY_PREFIX: isolatedRedisPrefix('wh-api') }, testBearerOptions());
    open = await createTestApp(
      { REDIS_KEY_PREFIX: isolatedRedisPrefix('wh-api-open'), WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' },
      testBearerOptions(),
    );
  });
  afterAll(async () => {
    await t.close();
    await open.close();
  });

  const create = (app: TestApp, auth: string, body: object) =>
    request(app.http).post('/api/v1/webhooks').set('Authorization', auth).send(body);

  async function aWebhook(auth = asA, events = ['credential.revoked']) {
    const res = await create(open, auth, { url: 'http://127.0.0.1:9/hook', events }).expect(201);
    return res.body as { id: string; secret: string };
  }

  it('creates a webhook and shows the signing secret once, stored encrypted', async () => {
    const res = await create(open, asA, {
      url: 'http://127.0.0.1:9/hook',
      events: ['credential.revoked', 'agent.deactivated'],
      description: 'security feed',
    }).expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      url: 'http://127.0.0.1:9/hook',
      events: ['agent.deactivated', 'credential.revoked'],
      description: 'security feed',
      status: 'active',
      root_agent_id: rootA,
      owner_agent_id: rootA,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
    });
    const secret: string = res.body.secret;

    const got = await request(open.http)
      .get(`/api/v1/webhooks/${res.body.id}`)
      .set('Authorization', asA)
      .expect(200);
    expect(got.body.secret).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain(secret);
    const listed = await request(open.http).get('/api/v1/webhooks').set('Authorization', asA).expect(200);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const [row] = await open.app
      .get(DataSource)
      .query(`SELECT secret_encrypted FROM webhooks WHERE id = $1`, [res.body.id]);
    expect(row.secret_encrypted).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(row.secret_encrypted).not.toContain(secret.slice(6));
    expect(decrypt(deriveKey(open.config.secretKey, WEBHOOK_SECRET_KEY_PURPOSE), row.secret_encrypted)).toBe(
      secret,
    );
    expect(logCapture.containing(secret.slice(6))).toEqual([]);
  });

  it('audits webhook.created and webhook.deleted', async () => {
    const hook = await aWebhook();
    await request(open.http).delete(`/api/v1/webhooks/${hook.id}`).set('Authorization', asA).expect(204);
    const rows = await open.app
      .get(DataSource)
      .query(
        `SELECT event_type, outcome, root_agent_id FROM audit_events WHERE target_id = $1 ORDER BY occurred_at`,
        [hook.id],
      );
    expect(rows).toEqual([
      { event_type: 'webhook.created', outcome: 'success', root_agent_id: rootA },
      { event_type: 'webhook.deleted', outcome: 'success', root_agent_id: rootA },
    ]);
  });

  it('deletes: the webhook is gone for reads and a second delete is 404', async () => {
    const hook = await aWebhook();
    await request(open.http).delete(`/api/v1/webhooks/${hook.id}`).set('Authorization', asA).expect(204);
    await request(open.http).get(`/api/v1/webhooks/${hook.id}`).set('Authorization', asA).expect(404);
    await request(open.http).delete(`/api/v1/webhooks/${hook.id}`).set('Authorization', asA).expect(404);
    await request(open.http)
      .get(`/api/v1/webhooks/${hook.id}/deliveries`)
      .set('Authorization', asA)
      .expect(404);
  });

  it("answers another tree's webhook exactly like an unknown id", async () => {
    const hook = await aWebhook(asA);
    for (const [method, path] of [
      ['get', `/api/v1/webhooks/${hook.id}`],
      ['get', `/api/v1/webhooks/${hook.id}/deliveries`],
      ['delete', `/api/v1/webhooks/${hook.id}`],
    ] as const) {
      const call = (p: string) => request(open.http)[method](p).set('Authorization', asB);
      const foreign = await call(path).expect(404);
      const unknown = await call(path.replace(hook.id, randomUUID())).expect(404);
      expect({ ...foreign.body, request_id: null }).toEqual({ ...unknown.body, request_id: null });
    }
    const listB = await request(open.http).get('/api/v1/webhooks').set('Authorization', asB).expect(200);
    expect(listB.body.items.map((w: { id: string }) => w.id)).not.toContain(hook.id);
    // still there for its own tree
    await request(open.http).get(`/api/v1/webhooks/${hook.id}`).set('Authorization', asA).expect(200);
  });

  it('requires webhooks:write to create or delete and webhooks:read to read', async () => {
    const root = await aRootAgentRow();
    const readOnly = `Bearer ${testBearer({ rootAgentId: root, scopes: ['webhooks:read'] })}`;
    const writeOnly = `Bearer ${testBearer({ rootAgentId: root, scopes: ['webhooks:write'] })}`;
    const denied = await create(open, readOnly, { url: 'http://127.0.0.1:9/', events: ['*'] }).expect(403);
    expect(denied.body.type).toBe('urn:agentauth:problem:insufficient_scope');
    const hook = (await create(open, writeOnly, { url: 'http://127.0.0.1:9/', events: ['*'] }).expect(201))
      .body;
    await request(open.http).get('/api/v1/webhooks').set('Authorization', writeOnly).expect(403);
    await request(open.http).get(`/api/v1/webhooks/${hook.id}`).set('Authorization', readOnly).expect(200);
    await request(open.http).delete(`/api/v1/webhooks/${hook.id}`).set('Authorization', readOnly).expect(403);
    await request(open.http).get('/api/v1/webhooks').expect(401);
  });

  it('validates the body and the path id', async () => {
    const cases: [object, string][] = [
      [{ url: 'http://127.0.0.1:9/', events: [] }, 'events'],
      [{ url: 'http://127.0.0.1:9/', events: ['no.such_event'] }, 'events'],
      [{ url: 'http://127.0.0.1:9/', events: ['credential.revoked', 'credential.revoked'] }, 'events'],
      [{ url: 'http://127.0.0.1:9/' }, 'events'],
      [{ events: ['*'] }, 'url'],
      [{ url: 'http://127.0.0.1:9/', events: ['*'], secret: 'mine' }, 'secret'],
      [{ url: 'http://user:pw@127.0.0.1:9/', events: ['*'] }, 'url'],
      [{ url: 'not a url', events: ['*'] }, 'url'],
    ];
    for (const [body, field] of cases) {
      const res = await create(open, asA, body).expect(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.type).toBe('urn:agentauth:problem:validation_error');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    const bad = await request(open.http)
      .get('/api/v1/webhooks/not-a-uuid')
      .set('Authorization', asA)
      .expect(400);
    expect(bad.body.type).toBe('urn:agentauth:problem:validation_error');
  });

  describe('refuses loopback, private and non-http targets unless allowed', () => {
    const refused = [
      'http://127.0.0.1/hook',
      'http://localhost/hook',
      'http://app.localhost:8080/hook',
      'http://[::1]/hook',
      'http://10.0.0.1/hook',
      'http://172.16.5.4/hook',
      'http://192.168.1.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[::ffff:a9fe:a9fe]/hook',
      'http://[fe80::1]/hook',
      'http://[fd00::1]/hook',
      'http://[ff02::1]/hook',
      'http://0.0.0.0/hook',
      'http://[::]/hook',
      'http://224.0.0.1/hook',
      'http://2130706433/hook',
      'http://0x7f000001/hook',
      'http://017700000001/hook',
      'http://127.1/hook',
      'ftp://x/hook',
      'file:///etc/passwd',
      'javascript:alert(1)',
    ];
    it.each(refused)('refuses %s', async (url) => {
      const res = await create(t, asA, { url, events: ['*'] }).expect(400);
      expect(res.body.type).toBe('urn:agentauth:problem:validation_error');
      expect(res.body.errors[0].field).toBe('url');
    });

    it('accepts loopback targets when WEBHOOK_ALLOW_PRIVATE_TARGETS=true, but never non-http', async () => {
      await create(open, asA, { url: 'http://[::1]:9/hook', events: ['*'] }).expect(201);
      await create(open, asA, { url: 'http://localhost:9/hook', events: ['*'] }).expect(201);
      await create(open, asA, { url: 'file:///etc/passwd', events: ['*'] }).expect(400);
      await create(open, asA, { url: 'ftp://127.0.0.1/x', events: ['*'] }).expect(400);
    });
  });

  it('lists newest first with cursor pagination', async () => {
    const root = await aRootAgentRow();
    const auth = `Bearer ${testBearer({ rootAgentId: root })}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await aWebhook(auth)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await request(open.http)
        .get('/api/v1/webhooks')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set('Authorization', auth)
        .expect(200);
      seen.push(...res.body.items.map((w: { id: string }) => w.id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    for (const query of [
      { cursor: 'garbage!' },
      { cursor: Buffer.from('{"c":1}').toString('base64url') },
      { limit: 0 },
      { limit: 201 },
      { limit: 'x' },
    ]) {
      const res = await request(open.http)
        .get('/api/v1/webhooks')
        .query(query)
        .set('Authorization', auth)
        .expect(400);
      expect(res.body.type).toBe('urn:agentauth:problem:validation_error');
    }
  });

  describe('enqueueing events (API side, no worker)', () => {
    const webhooksQueue = () => t.app.get(JobsProducer).queue(QUEUES.webhooks);

    it('enqueues one webhooks job per webhook-able event of a tree, without waiting for any worker', async () => {
      const audit = t.app.get(AuditService);
      const root = await aRootAgentRow();
      const targetId = randomUUID();
      await audit.record({
        eventType: 'credential.revoked',
        outcome: 'success',
        rootAgentId: root,
        actorAgentId: root,
        targetType: 'credential',
        targetId,
        details: { reason: 'test' },
      });
      const [event] = await t.app
        .get(DataSource)
        .query(`SELECT id FROM audit_events WHERE target_id = $1`, [targetId]);
      const job = await eventually(() => webhooksQueue().getJob(`event-${event.id}`));
      expect(job.name).toBe('event');
      expect(job.data.event).toEqual({
        id: event.id,
        type: 'credential.revoked',
        occurred_at: expect.any(String),
        root_agent_id: root,
        data: expect.objectContaining({
          outcome: 'success',
          target_id: targetId,
          details: { reason: 'test' },
        }),
      });
      expect(await job.getState()).toBe('waiting');
    });

    it('does not enqueue events outside the catalogue, failures, or tree events without a root', async () => {
      const audit = t.app.get(AuditService);
      const marker = randomUUID();
      await audit.record({
        eventType: 'webhook.created',
        outcome: 'success',
        rootAgentId: randomUUID(),
        targetId: marker,
      });
      await audit.record({
        eventType: 'credential.revoked',
        outcome: 'failure',
        rootAgentId: randomUUID(),
        targetId: marker,
      });
      await audit.record({
        eventType: 'credential.revoked',
        outcome: 'success',
        rootAgentId: null,
        targetId: marker,
      });
      await audit.record({
        eventType: 'refresh_token.reuse_detected',
        outcome: 'denied',
        rootAgentId: randomUUID(),
        targetId: marker,
      });
      const rows: { id: string; event_type: string }[] = await t.app
        .get(DataSource)
        .query(`SELECT id, event_type FROM audit_events WHERE target_id = $1`, [marker]);
      expect(rows).toHaveLength(4);
      const reuse = rows.find((r) => r.event_type === 'refresh_token.reuse_detected')!;
      await eventually(() => webhooksQueue().getJob(`event-${reuse.id}`)); // any outcome for reuse
      for (const row of rows.filter((r) => r !== reuse)) {
        expect(await webhooksQueue().getJob(`event-${row.id}`)).toBeUndefined();
      }
    });
  });

  describe('events of a cascade (real tree, no worker)', () => {
    let real: TestApp; // real Bearer tokens, private targets allowed
    beforeAll(async () => {
      real = await createTestApp({
        REDIS_KEY_PREFIX: isolatedRedisPrefix('wh-cascade'),
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      });
    });
    afterAll(async () => {
      await real.close();
    });

    it("delivers a key revoked by an agent's deactivation to the tree's credential.revoked subscriber", async () => {
      const root = await aTree(real);
      const hook = await request(real.http)
        .post('/api/v1/webhooks')
        .set(root.auth)
        .send({ url: 'http://127.0.0.1:9/hook', events: ['credential.revoked'] })
        .expect(201);
      const child = await aChildCaller(real, root);
      const deactivation = await request(real.http)
        .delete(`${API}/agents/${child.agent.id}`)
        .set(root.auth)
        .expect(200);

      const [event] = (await auditEventsAbout([child.credentialId])).filter(
        (r) => r.event_type === 'credential.revoked',
      ) as { id: string }[];
      const queue = real.app.get(JobsProducer).queue(QUEUES.webhooks);
      const job = await eventually(() => queue.getJob(`event-${event.id}`));
      expect(job.data.event).toEqual({
        id: event.id,
        type: 'credential.revoked',
        occurred_at: expect.any(String),
        root_agent_id: root.agent.id,
        data: expect.objectContaining({
          outcome: 'success',
          actor_agent_id: root.agent.id,
          target_type: 'credential',
          target_id: child.credentialId,
          request_id: deactivation.headers['x-request-id'],
          details: { cause: 'agent_deactivated', cause_agent_id: child.agent.id, agent_id: child.agent.id },
        }),
      });

      // The worker's fan-out (called directly): one delivery for the subscriber, queued for sending.
      const [deliveryId, ...more] = await real.app.get(WebhookDeliveryService).fanOut(job.data.event);
      expect(more).toEqual([]);
      expect(await queue.getJob(`delivery-${deliveryId}`)).toBeDefined();
      const log = await request(real.http)
        .get(`/api/v1/webhooks/${hook.body.id}/deliveries`)
        .set(root.auth)
        .expect(200);
      expect(log.body.items).toEqual([
        expect.objectContaining({
          id: deliveryId,
          event_id: event.id,
          event_type: 'credential.revoked',
          status: 'pending',
        }),
      ]);
    });
  });
});

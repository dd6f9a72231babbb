import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  type ResolvedAddress,
  WEBHOOK_RESOLVER,
  WebhookDeliveryService,
  type WebhookPayload,
  webhookPayloadFor,
} from '@agentauth/webhooks';
import { createTestApp, type TestApp } from '../../support/app';
import { testBearer, testBearerOptions } from '../../support/test-bearer';
import { aRootAgentRow } from '../../factories/db';
import { WebhookReceiver } from '../../support/webhook-receiver';
import { isolatedRedisPrefix } from '../../support/worker-process';

/**
 * Delivery run in-process (the worker's service, called directly) with an injectable resolver: the
 * delivery-time SSRF check (DNS rebinding), address pinning, redirects, timeouts and the attempt log.
 */
describe('webhook delivery (in-process)', () => {
  const dnsAnswers = new Map<string, ResolvedAddress[]>();
  const resolver = async (host: string): Promise<ResolvedAddress[]> => {
    const answer = dnsAnswers.get(host);
    if (!answer) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return answer;
  };
  const PUBLIC = { address: '93.184.216.34', family: 4 };
  const LOOPBACK = { address: '127.0.0.1', family: 4 };

  let strict: TestApp; // private targets refused
  let open: TestApp; // WEBHOOK_ALLOW_PRIVATE_TARGETS=true, short timeout
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    const options = testBearerOptions();
    const withResolver = {
      ...options,
      overrideProviders: [...options.overrideProviders, { provide: WEBHOOK_RESOLVER, useValue: resolver }],
    };
    strict = await createTestApp({ REDIS_KEY_PREFIX: isolatedRedisPrefix('wh-deliv') }, withResolver);
    open = await createTestApp(
      {
        REDIS_KEY_PREFIX: isolatedRedisPrefix('wh-deliv-open'),
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_TIMEOUT_MS: '400',
      },
      withResolver,
    );
    await receiver.start();
  });
  afterAll(async () => {
    await strict.close();
    await open.close();
    await receiver.stop();
  });

  async function subscribe(app: TestApp, rootAgentId: string, url: string, events = ['credential.revoked']) {
    const res = await request(app.http)
      .post('/api/v1/webhooks')
      .set('Authorization', `Bearer ${testBearer({ rootAgentId })}`)
      .send({ url, events });
    return res;
  }

  function anEvent(rootAgentId: string | null, eventType = 'credential.revoked'): WebhookPayload {
    return webhookPayloadFor({
      id: randomUUID(),
      occurredAt: new Date().toISOString(),
      eventType,
      outcome: 'success',
      rootAgentId,
      targetType: 'credential',
      targetId: randomUUID(),
      details: {},
    })!;
  }

  const deliveryRow = async (app: TestApp, id: string) =>
    (await app.app.get(DataSource).query(`SELECT * FROM webhook_deliveries WHERE id = $1`, [id]))[0];

  it('refuses at delivery a host that resolved public at subscription and private now (rebinding)', async () => {
    const root = await aRootAgentRow();
    const host = `rebind-${root.slice(0, 8)}.example.test`;
    dnsAnswers.set(host, [PUBLIC]);
    expect((await subscribe(strict, root, `http://${host}:${receiver.port}/hook`)).status).toBe(201);
    dnsAnswers.set(host, [LOOPBACK]);

    const service = strict.app.get(WebhookDeliveryService);
    const [deliveryId] = await service.fanOut(anEvent(root));
    const before = receiver.requests.length;
    const outcome = await service.deliver(deliveryId, { attempt: 1, maxAttempts: 8 });

    expect(outcome).toEqual({
      status: 'failed',
      error: expect.stringMatching(/^refused: .*127\.0\.0\.1.*loopback/),
    });
    expect(receiver.requests.length).toBe(before); // never connected
    const row = await deliveryRow(strict, deliveryId);
    expect(row).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_status_code: null,
      next_attempt_at: null,
    });
    expect(row.last_error).toMatch(/^refused: /);
  });

  it('checks every resolved address, at subscription and at delivery', async () => {
    const root = await aRootAgentRow();
    const host = `mixed-${root.slice(0, 8)}.example.test`;
    dnsAnswers.set(host, [PUBLIC, { address: '10.1.2.3', family: 4 }]);
    const refused = await subscribe(strict, root, `http://${host}/hook`);
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].message).toMatch(/10\.1\.2\.3.*private/);

    dnsAnswers.set(host, [PUBLIC]);
    expect((await subscribe(strict, root, `http://${host}:${receiver.port}/hook`)).status).toBe(201);
    dnsAnswers.set(host, [PUBLIC, { address: '::ffff:169.254.169.254', family: 6 }]);
    const service = strict.app.get(WebhookDeliveryService);
    const [deliveryId] = await service.fanOut(anEvent(root));
    const outcome = await service.deliver(deliveryId, { attempt: 1, maxAttempts: 8 });
    expect(outcome).toEqual({ status: 'failed', error: expect.stringMatching(/link-local/) });
  });

  it('connects to the vetted address, never re-resolving the name', async () => {
    // `.example.test` names do not exist in real DNS: the request can only reach the receiver through the
    // address the injected resolver vetted.
    const root = await aRootAgentRow();
    const host = `pinned-${root.slice(0, 8)}.example.test`;
    dnsAnswers.set(host, [LOOPBACK]);
    expect((await subscribe(open, root, `http://${host}:${receiver.port}/pinned`)).status).toBe(201);
    const service = open.app.get(WebhookDeliveryService);
    const [deliveryId] = await service.fanOut(anEvent(root));
    expect(await service.deliver(deliveryId, { attempt: 1, maxAttempts: 8 })).toEqual({
      status: 'succeeded',
    });
    const got = receiver.requests.find((r) => r.headers['agentauth-webhook-id'] === deliveryId)!;
    expect(got.headers.host).toBe(`${host}:${receiver.port}`);
    expect(got.path).toBe('/pinned');
    const row = await deliveryRow(open, deliveryId);
    expect(row).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 200, last_error: null });
    expect(row.delivered_at).toBeInstanceOf(Date);

    // a re-run after success (at-least-once queue) is a no-op
    const count = receiver.requests.length;
    expect(await service.deliver(deliveryId, { attempt: 2, maxAttempts: 8 })).toEqual({
      status: 'succeeded',
    });
    expect(receiver.requests.length).toBe(count);
  });

  describe('failed attempts', () => {
    const scripted = new WebhookReceiver([
      { status: 302, headers: { Location: '/elsewhere' } },
      { status: 200, delayMs: 1500 },
      { status: 503 },
    ]);
    beforeAll(() => scripted.start());
    afterAll(() => scripted.stop());

    it('does not follow redirects, times out, and marks the last attempt failed, logging each attempt', async () => {
      const root = await aRootAgentRow();
      expect((await subscribe(open, root, scripted.url('/hook'))).status).toBe(201);
      const service = open.app.get(WebhookDeliveryService);
      const [deliveryId] = await service.fanOut(anEvent(root));

      expect(await service.deliver(deliveryId, { attempt: 1, maxAttempts: 3 })).toEqual({
        status: 'retry',
        error: 'HTTP 302 (redirects are not followed)',
      });
      expect(scripted.requests.map((r) => r.path)).toEqual(['/hook']);
      let row = await deliveryRow(open, deliveryId);
      expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 302 });
      expect(row.next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 30_000); // base 60 s by default

      expect(await service.deliver(deliveryId, { attempt: 2, maxAttempts: 3 })).toEqual({
        status: 'retry',
        error: 'timed out after 400 ms',
      });
      expect(await service.deliver(deliveryId, { attempt: 3, maxAttempts: 3 })).toEqual({
        status: 'failed',
        error: 'HTTP 503',
      });
      row = await deliveryRow(open, deliveryId);
      expect(row).toMatchObject({
        status: 'failed',
        attempts: 3,
        last_status_code: 503,
        last_error: 'HTTP 503',
        next_attempt_at: null,
        delivered_at: null,
      });
      expect(row.attempt_log).toEqual([
        expect.objectContaining({
          attempt: 1,
          status_code: 302,
          error: 'HTTP 302 (redirects are not followed)',
        }),
        expect.objectContaining({ attempt: 2, status_code: null, error: 'timed out after 400 ms' }),
        expect.objectContaining({ attempt: 3, status_code: 503, error: 'HTTP 503' }),
      ]);
      // a failed delivery stays failed
      expect(await service.deliver(deliveryId, { attempt: 4, maxAttempts: 3 })).toMatchObject({
        status: 'failed',
      });
      expect(scripted.requests).toHaveLength(3);
    });
  });

  it('abandons deliveries of a deleted webhook without calling it', async () => {
    const root = await aRootAgentRow();
    const hook = (await subscribe(open, root, receiver.url('/deleted'))).body;
    const service = open.app.get(WebhookDeliveryService);
    const [deliveryId] = await service.fanOut(anEvent(root));
    await request(open.http)
      .delete(`/api/v1/webhooks/${hook.id}`)
      .set('Authorization', `Bearer ${testBearer({ rootAgentId: root })}`)
      .expect(204);
    expect(await service.deliver(deliveryId, { attempt: 1, maxAttempts: 8 })).toEqual({
      status: 'failed',
      error: 'webhook deleted',
    });
    expect(receiver.requests.some((r) => r.path === '/deleted')).toBe(false);
  });

  it("fans out to the subscribed webhooks of the event's tree only, once per webhook", async () => {
    const root = await aRootAgentRow();
    const other = await aRootAgentRow();
    const matching = (await subscribe(open, root, receiver.url('/a'), ['credential.revoked'])).body.id;
    const wildcard = (await subscribe(open, root, receiver.url('/b'), ['*'])).body.id;
    await subscribe(open, root, receiver.url('/c'), ['agent.deactivated']);
    await subscribe(open, other, receiver.url('/d'), ['*']);
    const service = open.app.get(WebhookDeliveryService);
    const event = anEvent(root);
    const ids = await service.fanOut(event);
    expect(await service.fanOut(event)).toEqual(ids); // idempotent
    const rows: { webhook_id: string; root_agent_id: string }[] = await open.app
      .get(DataSource)
      .query(`SELECT webhook_id, root_agent_id FROM webhook_deliveries WHERE event_id = $1`, [event.id]);
    expect(rows.map((r) => r.webhook_id).sort()).toEqual([matching, wildcard].sort());
    expect(rows.every((r) => r.root_agent_id === root)).toBe(true);

    // a webhook created after the event occurred does not receive it
    const late = anEvent(root);
    (late as { occurred_at: string }).occurred_at = new Date(Date.now() - 60_000).toISOString();
    expect(await service.fanOut(late)).toEqual([]);
  });

  it('fans a deployment-wide event (signing_key.rotated) out to every tree that subscribed to it', async () => {
    const [r1, r2] = await Promise.all([aRootAgentRow(), aRootAgentRow()]);
    const h1 = (await subscribe(open, r1, receiver.url('/k1'), ['signing_key.rotated'])).body.id;
    const h2 = (await subscribe(open, r2, receiver.url('/k2'), ['signing_key.rotated'])).body.id;
    const event = anEvent(null, 'signing_key.rotated');
    expect(event.root_agent_id).toBeNull();
    await open.app.get(WebhookDeliveryService).fanOut(event);
    const rows: { webhook_id: string; root_agent_id: string }[] = await open.app
      .get(DataSource)
      .query(`SELECT webhook_id, root_agent_id FROM webhook_deliveries WHERE event_id = $1`, [event.id]);
    expect(rows).toEqual(
      expect.arrayContaining([
        { webhook_id: h1, root_agent_id: r1 },
        { webhook_id: h2, root_agent_id: r2 },
      ]),
    );
  });
});

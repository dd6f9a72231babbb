import { randomUUID } from 'node:crypto';
import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Audited, AuditService } from '@agentauth/audit';
import { Auth } from '@agentauth/core';
import { JobsProducer, QUEUES } from '@agentauth/jobs';
import { createTestApp, type TestApp } from '../../support/app';
import { testBearer, testBearerOptions } from '../../support/test-bearer';
import { aRootAgentRow } from '../../factories/db';
import { eventually, WebhookReceiver } from '../../support/webhook-receiver';
import { documentedVerifier } from '../../support/webhook-verification';
import {
  isolatedRedisPrefix,
  killAllWorkers,
  startWorker,
  type WorkerProcess,
} from '../../support/worker-process';

/** A test-only audited route standing in for the credential revocation endpoint (another issue). */
@Controller('test-only')
class TestRevocationController {
  @Post('revoke-credential')
  @HttpCode(200)
  @Auth({ scopes: [] })
  @Audited('credential.revoked', { targetType: 'credential' })
  revoke(): { id: string; revoked: true } {
    return { id: randomUUID(), revoked: true };
  }
}

@Module({ controllers: [TestRevocationController] })
class TestRevocationModule {}

/** Webhooks end to end: the API records and enqueues, a real worker process fans out, signs and delivers. */
jest.setTimeout(60_000);

describe('webhooks delivered by the worker process', () => {
  const env = {
    REDIS_KEY_PREFIX: isolatedRedisPrefix('wk-hooks'),
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_RETRY_BASE_DELAY_MS: '200',
    WEBHOOK_TIMEOUT_MS: '10000',
  };
  const verify = documentedVerifier();
  let t: TestApp;
  let worker: WorkerProcess;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    const options = testBearerOptions();
    t = await createTestApp(env, {
      ...options,
      extraModules: [...options.extraModules, TestRevocationModule],
    });
    worker = await startWorker(env);
  });
  afterAll(async () => {
    await killAllWorkers();
    await t?.close();
    await Promise.all(receivers.map((r) => r.stop()));
  });

  afterEach(() => {
    // the worker logs one JSON object per line on stdout, nothing else, nothing on stderr
    expect(worker.nonJson).toEqual([]);
    expect(worker.stderr).toEqual([]);
  });

  async function aReceiver(script?: ConstructorParameters<typeof WebhookReceiver>[0]) {
    const receiver = await new WebhookReceiver(script).start();
    receivers.push(receiver);
    return receiver;
  }

  async function subscribe(rootAgentId: string, url: string, events = ['credential.revoked']) {
    const res = await request(t.http)
      .post('/api/v1/webhooks')
      .set('Authorization', `Bearer ${testBearer({ rootAgentId })}`)
      .send({ url, events })
      .expect(201);
    return res.body as { id: string; secret: string };
  }

  async function revokeEvent(rootAgentId: string) {
    const targetId = randomUUID();
    await t.app.get(AuditService).record({
      eventType: 'credential.revoked',
      outcome: 'success',
      rootAgentId,
      actorAgentId: rootAgentId,
      targetType: 'credential',
      targetId,
      ip: '203.0.113.9',
      requestId: 'req-test-1',
      details: { reason: 'compromised' },
    });
    const [row] = await t.app
      .get(DataSource)
      .query(`SELECT id FROM audit_events WHERE target_id = $1`, [targetId]);
    return { eventId: row.id as string, targetId };
  }

  const deliveriesOf = async (rootAgentId: string, webhookId: string) =>
    (
      await request(t.http)
        .get(`/api/v1/webhooks/${webhookId}/deliveries`)
        .set('Authorization', `Bearer ${testBearer({ rootAgentId })}`)
        .expect(200)
    ).body.items as Record<string, unknown>[];

  it('delivers a signed event that the documented recipe verifies', async () => {
    const receiver = await aReceiver();
    const root = await aRootAgentRow();
    const hook = await subscribe(root, receiver.url('/agentauth'));
    const otherTree = await aReceiver();
    await subscribe(await aRootAgentRow(), otherTree.url(), ['*']);
    const otherType = await aReceiver();
    await subscribe(root, otherType.url(), ['agent.deactivated']);

    const { eventId, targetId } = await revokeEvent(root);
    await receiver.waitFor((r) => r.length === 1);
    const [got] = receiver.requests;

    expect(got.method).toBe('POST');
    expect(got.path).toBe('/agentauth');
    expect(got.headers['content-type']).toBe('application/json');
    expect(verify(got.rawBody, got.headers, hook.secret)).toBe(true);
    // the recipe is not a rubber stamp
    expect(verify(got.rawBody.replace('compromised', 'harmless'), got.headers, hook.secret)).toBe(false);
    expect(verify(got.rawBody, got.headers, `${hook.secret}x`)).toBe(false);
    const ts = Number(got.headers['agentauth-webhook-timestamp']);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(30);
    expect(verify(got.rawBody, got.headers, hook.secret, ts + 301)).toBe(false); // outside the replay window
    expect(verify(got.rawBody, got.headers, hook.secret, ts + 299)).toBe(true);

    expect(JSON.parse(got.rawBody)).toEqual({
      id: eventId,
      type: 'credential.revoked',
      occurred_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      root_agent_id: root,
      data: {
        outcome: 'success',
        actor_agent_id: root,
        on_behalf_of: null,
        target_type: 'credential',
        target_id: targetId,
        ip: '203.0.113.9',
        request_id: 'req-test-1',
        details: { reason: 'compromised' },
      },
    });

    const [delivery] = await eventually(async () => {
      const items = await deliveriesOf(root, hook.id);
      return items[0]?.status === 'succeeded' ? items : undefined;
    });
    expect(got.headers['agentauth-webhook-id']).toBe(delivery.id);
    expect(delivery).toMatchObject({
      webhook_id: hook.id,
      event_id: eventId,
      event_type: 'credential.revoked',
      status: 'succeeded',
      attempts: 1,
      last_status_code: 200,
      last_error: null,
      next_attempt_at: null,
    });
    // one delivery for the event: not to another tree, not to a webhook of another type
    const rows = await t.app
      .get(DataSource)
      .query(`SELECT webhook_id FROM webhook_deliveries WHERE event_id = $1`, [eventId]);
    expect(rows).toEqual([{ webhook_id: hook.id }]);
    expect(otherTree.requests).toEqual([]);
    expect(otherType.requests).toEqual([]);
  });

  it('retries a failing receiver with backoff: two logged failures, then one success', async () => {
    const receiver = await aReceiver([{ status: 500 }, { status: 500 }, { status: 200 }]);
    const root = await aRootAgentRow();
    const hook = await subscribe(root, receiver.url());
    const { eventId } = await revokeEvent(root);

    const [delivery] = await eventually(async () => {
      const items = await deliveriesOf(root, hook.id);
      return items[0]?.status === 'succeeded' ? items : undefined;
    });
    expect(delivery).toMatchObject({
      event_id: eventId,
      attempts: 3,
      last_status_code: 200,
      last_error: null,
    });
    expect(delivery.attempt_log).toEqual([
      expect.objectContaining({ attempt: 1, status_code: 500, error: 'HTTP 500' }),
      expect.objectContaining({ attempt: 2, status_code: 500, error: 'HTTP 500' }),
      expect.objectContaining({ attempt: 3, status_code: 200, error: null }),
    ]);
    expect(receiver.requests).toHaveLength(3);
    expect(receiver.requests.filter((r) => r.status === 200)).toHaveLength(1);
    // the same delivery, the same body, each attempt freshly and validly signed
    expect(new Set(receiver.requests.map((r) => r.headers['agentauth-webhook-id']))).toEqual(
      new Set([delivery.id]),
    );
    expect(new Set(receiver.requests.map((r) => r.rawBody)).size).toBe(1);
    for (const r of receiver.requests) expect(verify(r.rawBody, r.headers, hook.secret)).toBe(true);
    // backoff: base 200 ms, then 400 ms
    const gaps = [1, 2].map((i) => receiver.requests[i].receivedAt - receiver.requests[i - 1].receivedAt);
    expect(gaps[0]).toBeGreaterThanOrEqual(150);
    expect(gaps[1]).toBeGreaterThanOrEqual(350);

    const job = await t.app
      .get(JobsProducer)
      .queue(QUEUES.webhooks)
      .getJob(`delivery-${String(delivery.id)}`);
    expect(await job!.getState()).toBe('completed');
    expect(job!.attemptsMade).toBe(3);
    expect(
      worker.lines.filter((l) => l.msg === 'webhook attempt failed' && l.delivery_id === delivery.id),
    ).toHaveLength(2);
  });

  it('answers the API request without waiting for the (slow) receiver', async () => {
    const receiver = await aReceiver([{ status: 200, delayMs: 3000 }]);
    const root = await aRootAgentRow();
    const hook = await subscribe(root, receiver.url());
    const started = Date.now();
    const res = await request(t.http)
      .post('/api/v1/test-only/revoke-credential')
      .set('Authorization', `Bearer ${testBearer({ rootAgentId: root })}`)
      .expect(200);
    const answeredAt = Date.now();
    expect(answeredAt - started).toBeLessThan(1500);

    await receiver.waitFor((r) => r.length === 1 && r[0].answeredAt !== undefined, 20_000);
    expect(receiver.requests[0].answeredAt!).toBeGreaterThan(answeredAt + 1000);
    const body = JSON.parse(receiver.requests[0].rawBody);
    expect(body).toMatchObject({
      type: 'credential.revoked',
      root_agent_id: root,
      data: { target_id: res.body.id },
    });
    await eventually(async () => (await deliveriesOf(root, hook.id))[0]?.status === 'succeeded');
  });

  it('stops on SIGTERM', async () => {
    const exit = await worker.stop();
    expect(exit.signal === 'SIGTERM' || exit.code === 0).toBe(true);
    expect(worker.lines.map((l) => l.msg)).toContain('all queue workers stopped');
  });
});

import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import type { Job } from 'bullmq';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type Redis from 'ioredis';
import { AuditService } from '@agentauth/audit';
import { REDIS } from '@agentauth/core';
import { JobsProducer, QUEUES, type QueueName, SCHEDULER_IDS } from '@agentauth/jobs';
import { aRootAgentRow } from '../../factories/db';
import { createTestApp, type TestApp } from '../../support/app';
import { testBearer, testBearerOptions } from '../../support/test-bearer';
import { eventually, WebhookReceiver } from '../../support/webhook-receiver';
import {
  finishedJob,
  isolatedRedisPrefix,
  killAllWorkers,
  runScript,
  startWorker,
  type WorkerProcess,
} from '../../support/worker-process';

jest.setTimeout(90_000);

/**
 * The worker process's life: schedules registered once whatever the number of workers, on-demand
 * maintenance and key-rotation jobs (the latter from the operator's `make rotate-keys` script), failed jobs
 * kept with their error, no job lost when a worker is SIGKILLed mid-job (stalled-job recovery), and SIGTERM
 * letting the running job finish.
 */
describe('worker process lifecycle', () => {
  const env = {
    REDIS_KEY_PREFIX: isolatedRedisPrefix('wk-life'),
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_RETRY_BASE_DELAY_MS: '200',
    WEBHOOK_MAX_ATTEMPTS: '2',
    WEBHOOK_TIMEOUT_MS: '20000',
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
  };
  let t: TestApp;
  const workers: WorkerProcess[] = [];
  const receivers: WebhookReceiver[] = [];

  const start = async () => {
    const w = await startWorker(env);
    workers.push(w);
    return w;
  };
  const running = () => workers.filter((w) => w.running);
  const queue = (name: QueueName) => t.app.get(JobsProducer).queue(name);

  beforeAll(async () => {
    t = await createTestApp(env, testBearerOptions());
  });
  afterAll(async () => {
    await killAllWorkers();
    await t?.close();
    await Promise.all(receivers.map((r) => r.stop()));
  });
  afterEach(() => {
    for (const w of workers) {
      expect(w.nonJson).toEqual([]);
      expect(w.stderr).toEqual([]);
    }
  });

  async function finished(job: Job | string, name: QueueName): Promise<Job> {
    return finishedJob(queue(name), typeof job === 'string' ? job : job.id!);
  }

  /** A webhook to a local receiver answering `script`, one event delivered to it: its first request seen. */
  async function webhookDelivery(script: ConstructorParameters<typeof WebhookReceiver>[0]) {
    const receiver = await new WebhookReceiver(script).start();
    receivers.push(receiver);
    const root = await aRootAgentRow();
    const hook = await request(t.http)
      .post('/api/v1/webhooks')
      .set('Authorization', `Bearer ${testBearer({ rootAgentId: root })}`)
      .send({ url: receiver.url(), events: ['credential.revoked'] })
      .expect(201);
    const targetId = randomUUID();
    await t.app.get(AuditService).record({
      eventType: 'credential.revoked',
      outcome: 'success',
      rootAgentId: root,
      targetType: 'credential',
      targetId,
    });
    await receiver.waitFor((r) => r.length === 1);
    const [delivery] = await t.app
      .get(DataSource)
      .query(`SELECT id FROM webhook_deliveries WHERE webhook_id = $1`, [hook.body.id]);
    return { receiver, deliveryId: delivery.id as string, jobId: `delivery-${delivery.id}` };
  }

  const deliveryRow = async (id: string) =>
    (await t.app.get(DataSource).query(`SELECT * FROM webhook_deliveries WHERE id = $1`, [id]))[0];

  it('registers each schedule once, however many workers start', async () => {
    await start();
    await start();
    expect(running()).toHaveLength(2);
    const rotation = await queue(QUEUES.keyRotation).getJobSchedulers();
    const maintenance = await queue(QUEUES.maintenance).getJobSchedulers();
    expect(rotation.map((s) => s.key).sort()).toEqual(
      [SCHEDULER_IDS.keyAdvance, SCHEDULER_IDS.keyRotation].sort(),
    );
    expect(maintenance.map((s) => s.key)).toEqual([SCHEDULER_IDS.maintenance]);
    const rotate = rotation.find((s) => s.key === SCHEDULER_IDS.keyRotation)!;
    expect(rotate.every).toBe(30 * 24 * 3600 * 1000); // KEY_ROTATION_DAYS
    // the first rotation is one period away, not at every worker start
    expect(Number(rotate.next)).toBeGreaterThan(Date.now() + 29 * 24 * 3600 * 1000);
    expect(maintenance[0].every).toBe(300 * 1000); // MAINTENANCE_INTERVAL_SECONDS
    // one next maintenance run is scheduled, not one per worker
    await eventually(async () => {
      const delayed = await queue(QUEUES.maintenance).getDelayed();
      return delayed.filter((j) => j.repeatJobKey === SCHEDULER_IDS.maintenance).length === 1;
    });
  });

  it('runs the registered maintenance tasks on demand (webhook delivery retention)', async () => {
    const db = t.app.get(DataSource);
    const root = await aRootAgentRow();
    const hook = await request(t.http)
      .post('/api/v1/webhooks')
      .set('Authorization', `Bearer ${testBearer({ rootAgentId: root })}`)
      .send({ url: 'http://127.0.0.1:9/', events: ['*'] })
      .expect(201);
    const insert = (status: string, ageDays: number) =>
      db.query(
        `INSERT INTO webhook_deliveries (webhook_id, root_agent_id, event_id, event_type, body, status, delivered_at, created_at, updated_at)
         VALUES ($1, $2, $3, 'credential.revoked', '{}', $4, CASE WHEN $4 = 'succeeded' THEN now() END,
                 now() - make_interval(days => $5), now() - make_interval(days => $5)) RETURNING id`,
        [hook.body.id, root, randomUUID(), status, ageDays],
      );
    const [[oldDone], [oldFailed], [oldPending], [recent]] = [
      await insert('succeeded', 40),
      await insert('failed', 31),
      await insert('pending', 40),
      await insert('succeeded', 1),
    ];
    const job = await finished(await t.app.get(JobsProducer).runMaintenanceNow(), QUEUES.maintenance);
    expect(job.returnvalue['webhooks.purge-deliveries'].deleted).toBeGreaterThanOrEqual(2);
    const left = await db.query(`SELECT id FROM webhook_deliveries WHERE webhook_id = $1`, [hook.body.id]);
    expect(left.map((r: { id: string }) => r.id).sort()).toEqual([oldPending.id, recent.id].sort());
    expect(left.map((r: { id: string }) => r.id)).not.toContain(oldDone.id);
    expect(left.map((r: { id: string }) => r.id)).not.toContain(oldFailed.id);
  });

  it('rotates keys on demand (`make rotate-keys` only enqueues): a worker publishes a new key, audited', async () => {
    const run = await runScript('rotate-keys', env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'signing-key rotation enqueued',
        queue: QUEUES.keyRotation,
        job_id: expect.any(String),
      }),
    ]);
    const job = await finished(run.lines[0].job_id as string, QUEUES.keyRotation);
    expect(job.name).toBe('rotate');
    expect(job.returnvalue).toMatchObject({ kid: expect.any(String), state: 'published' });
    const jwks = await request(t.http).get('/api/v1/auth/jwks').expect(200);
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(job.returnvalue.kid);
    const events = await t.app
      .get(DataSource)
      .query(`SELECT target_id FROM audit_events WHERE event_type = 'signing_key.rotated'`);
    expect(events.map((e: { target_id: string }) => e.target_id)).toContain(job.returnvalue.kid);
  });

  it('refuses to rotate keys on demand without the queues (embedded mode): exit 1, a clear message', async () => {
    const run = await runScript('rotate-keys', { ...env, REDIS_URL: undefined });
    expect(run.code).toBe(1);
    expect(run.lines).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'signing-key rotation not enqueued',
        error: expect.stringMatching(/REDIS_URL and DATABASE_URL must both be set/),
      }),
    ]);
  });

  it('keeps a job that exhausted its attempts in the failed set, with its error, for inspection', async () => {
    // WEBHOOK_MAX_ATTEMPTS=2 against a receiver that always answers 500.
    const { receiver, deliveryId, jobId } = await webhookDelivery([{ status: 500 }]);
    const failed = await finishedJob(queue(QUEUES.webhooks), jobId, 'failed');
    expect(receiver.requests).toHaveLength(2);
    expect(failed.attemptsMade).toBe(2);
    expect(failed.failedReason).toMatch(/500/);
    expect(failed.finishedOn).toEqual(expect.any(Number));
    const kept = await queue(QUEUES.webhooks).getFailed(0, -1);
    expect(kept.map((j) => j.id)).toContain(jobId);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: 'failed', attempts: 2 });
  });

  it('loses no job when the worker is SIGKILLed mid-job: a restarted worker recovers it', async () => {
    await Promise.all(
      running()
        .slice(1)
        .map((w) => w.stop()),
    );
    const [victim] = running();
    expect(running()).toHaveLength(1);
    // the first request hangs until the worker dies; the retry is answered at once
    const { receiver, deliveryId, jobId } = await webhookDelivery([
      { status: 200, delayMs: 60_000 },
      { status: 200 },
    ]);
    expect(await (await queue(QUEUES.webhooks).getJob(jobId))!.getState()).toBe('active');

    await victim.kill();
    expect((await deliveryRow(deliveryId)).status).toBe('pending');
    expect(await (await queue(QUEUES.webhooks).getJob(jobId))!.getState()).toBe('active'); // orphaned

    const rescuer = await start();
    await finished(jobId, QUEUES.webhooks);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: 'succeeded', last_status_code: 200 });
    expect(receiver.requests).toHaveLength(2); // at least once: the killed attempt, then the recovered one
    expect(new Set(receiver.requests.map((r) => r.headers['agentauth-webhook-id']))).toEqual(
      new Set([deliveryId]),
    );
    expect(rescuer.lines).toContainEqual(
      expect.objectContaining({ msg: 'stalled job put back in the queue', job_id: jobId }),
    );
  });

  it('lets the running job finish on SIGTERM before exiting', async () => {
    const [worker] = running();
    expect(running()).toHaveLength(1);
    const heartbeat = `worker:heartbeat:${os.hostname()}:${worker.pid}`;
    expect(await t.app.get<Redis>(REDIS).exists(heartbeat)).toBe(1);
    const { receiver, deliveryId, jobId } = await webhookDelivery([{ status: 200, delayMs: 2000 }]);
    const signalledAt = Date.now();
    const exit = await worker.stop();
    const exitedAt = Date.now();

    expect(exit.signal === 'SIGTERM' || exit.code === 0).toBe(true);
    expect(exitedAt - signalledAt).toBeGreaterThan(1000); // it waited for the job
    expect(await t.app.get<Redis>(REDIS).exists(heartbeat)).toBe(0); // a stopped worker leaves no heartbeat
    expect(receiver.requests[0].answeredAt).toBeDefined();
    expect(receiver.requests[0].answeredAt!).toBeLessThanOrEqual(exitedAt);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await (await queue(QUEUES.webhooks).getJob(jobId))!.getState()).toBe('completed');
    const order = [
      'stopping: waiting for running jobs to finish',
      'webhook delivered',
      'all queue workers stopped',
    ];
    const positions = order.map((msg) =>
      worker.lines.findIndex(
        (l) => l.msg === msg && (msg !== 'webhook delivered' || l.delivery_id === deliveryId),
      ),
    );
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});
